import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { ROOT } from '../support/node-process';

jest.setTimeout(60000);

function run(script: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [path.join(ROOT, 'dist', script), ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
}

describe('one-shot commands (dist/ops)', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let env: NodeJS.ProcessEnv;
  let heartbeat: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    roots = await createTestRoots();
    heartbeat = path.join(roots.base, 'worker.heartbeat');
    env = testEnv(
      { databaseUrl: db.url, redisPrefix: 'unused', stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
      { WORKER_HEARTBEAT_FILE: heartbeat, WORKER_HEARTBEAT_STALE_SECONDS: '60', LOG_LEVEL: 'info' },
    );
  });
  afterAll(async () => {
    await db.drop();
    await roots.cleanup();
  });

  it('healthcheck worker: fails without a heartbeat, passes with a fresh one, fails once it is stale', () => {
    const missing = run('ops/healthcheck.js', ['worker'], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/heartbeat .* is missing/);

    fs.writeFileSync(heartbeat, String(Date.now()));
    expect(run('ops/healthcheck.js', ['worker'], env).status).toBe(0);

    // A stuck loop stops refreshing the heartbeat: older than WORKER_HEARTBEAT_STALE_SECONDS fails.
    fs.writeFileSync(heartbeat, String(Date.now() - 120_000));
    const stale = run('ops/healthcheck.js', ['worker'], env);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/stale: \d+ s old \(limit 60 s\)/);
  });

  it('healthcheck: refuses an unknown target with usage, exit 1', () => {
    const res = run('ops/healthcheck.js', ['nginx'], env);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/usage/);
  });

  it('migrate: applies every migration to an empty database and exits 0; a second run finds nothing to do', async () => {
    const first = run('ops/migrate.js', [], env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/"message":"migrations applied"/);
    const tables = await db.pool.query(`SELECT to_regclass('public.api_tokens') AS t, to_regclass('public.products') AS p`);
    expect(tables.rows[0]).toEqual({ t: 'api_tokens', p: 'products' });
    const second = run('ops/migrate.js', [], env);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/schema already at head/);
  });

  it('migrate: exits 1 with a clear reason when the database is unreachable or the configuration invalid', () => {
    const down = run('ops/migrate.js', [], { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
    expect(down.status).toBe(1);
    expect(down.stdout).toMatch(/migration failed/);
    const bad = run('ops/migrate.js', [], { ...env, DATABASE_URL: 'mysql://x' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
  });
});

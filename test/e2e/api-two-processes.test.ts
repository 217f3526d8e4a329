import http from 'node:http';
import { Client } from 'pg';
import { MIGRATION_LOCK_KEY } from '../../services/core/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';
import { deleteRedisPrefix, testRedisPrefix } from '../support/redis';
import { TEST_ADMIN_TOKEN } from '../support/tokens';
import { waitFor } from '../support/wait-for';


jest.setTimeout(180000);

const LOCK_WAIT = 'another process holds the migration lock: waiting for it';

/**
 * Two api processes (dist/, one worker each) on one database and one Redis prefix, as two replicas
 * behind a load balancer, started at the same time: neither may exit because the other (or any
 * process) holds the migration lock, and nothing either of them keeps in memory may let a revoked
 * token through or split a rate limit in two.
 */
describe('two api processes sharing PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  const prefix = testRedisPrefix();
  const apis: NodeProcess[] = [];
  const bases: string[] = [];

  beforeAll(async () => {
    [db, roots] = await Promise.all([createTestDatabase(), createTestRoots()]);
    // Hold the migration lock, as a migration running elsewhere would: both apis, started together,
    // must wait for it instead of exiting.
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const env = testEnv(
        { databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
        {
          PORT: String(port), METRICS_PORT: '0', API_WORKERS: '1', FERRY_ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: 'warn',
          RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_TOKEN: '4', RATE_LIMIT_WINDOW_SECONDS: '60', FERRY_INSTANCE: `two-${i}`,
        },
      );
      apis.push(startNodeProcess('api/main.js', env));
      bases.push(`http://127.0.0.1:${port}`);
    }
    try {
      await Promise.all(apis.map((api) => api.waitForLog((l) => l.message === LOCK_WAIT, 90000)));
    } finally {
      await holder.end();
    }
    await Promise.all(bases.map((base) => waitFor(() => fetch(`${base}/health/live`).then((r) => r.ok, () => false), 90000, `${base} to start`, 100)));
  });
  afterAll(async () => {
    for (const api of apis) api.kill();
    await Promise.all(apis.map((a) => a.exited));
    await deleteRedisPrefix(prefix);
    await db?.drop();
    await roots?.cleanup();
  });

  const call = (base: string, method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  /** A GET without a token from another loopback address, so its bucket is this test's alone. */
  const anonymousFrom = (base: string, localAddress: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}/api/status`, { localAddress }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });

  it('started together: each waited for the migration lock instead of exiting, and both serve', async () => {
    expect(apis.map((api) => ({ exit: api.child.exitCode, waited: api.lines.some((l) => l.message === LOCK_WAIT) })))
      .toEqual([{ exit: null, waited: true }, { exit: null, waited: true }]);
    for (const base of bases) expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });

  it('holds the per-address limit across both processes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await anonymousFrom(bases[i % 2]!, '127.0.0.2'));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('refuses a revoked token on its very next request to the other process', async () => {
    const [a, b] = bases as [string, string];
    const created = await call(a, 'POST', '/api/tokens', TEST_ADMIN_TOKEN, { name: 'short-lived', scopes: ['read'] });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    // Both processes have seen and accepted it, so anything either of them remembers is warm.
    expect([(await call(a, 'GET', '/api/status', token)).status, (await call(b, 'GET', '/api/status', token)).status]).toEqual([200, 200]);
    expect((await call(a, 'DELETE', '/api/tokens/short-lived', TEST_ADMIN_TOKEN)).status).toBe(200);
    const next = await call(b, 'GET', '/api/status', token);
    expect({ status: next.status, code: ((await next.json()) as { error: { code: string } }).error.code }).toEqual({ status: 401, code: 'unauthorized' });
    expect((await call(a, 'GET', '/api/status', token)).status).toBe(401);
  });

  it('holds the per-token limit across both processes', async () => {
    const created = await call(bases[0]!, 'POST', '/api/tokens', TEST_ADMIN_TOKEN, { name: 'limited', scopes: ['read'] });
    const { token } = (await created.json()) as { token: string };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(bases[i % 2]!, 'GET', '/api/status', token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

});

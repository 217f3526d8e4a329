import { spawnSync } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';
import { deleteRedisPrefix, testRedisPrefix } from '../support/redis';

jest.setTimeout(60000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('api cluster whose primary is killed', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  const prefix = testRedisPrefix();
  let api: NodeProcess;
  let workers: number[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    api = startNodeProcess('api/main.js', testEnv(
      { databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
      { PORT: String(await freePort()), METRICS_PORT: '0', API_WORKERS: '2', LOG_LEVEL: 'info' },
    ));
    await api.waitForLog(() => api.lines.filter((l) => l.message === 'api listening').length >= 2, 120_000);
    workers = spawnSync('pgrep', ['-P', String(api.child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  });
  afterAll(async () => {
    api?.kill();
    for (const pid of workers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await deleteRedisPrefix(prefix);
    await db.drop();
    await roots.cleanup();
  });

  it('leaves no orphaned worker holding the port', async () => {
    expect(workers).toHaveLength(2);
    api.child.kill('SIGKILL');
    await api.exited;
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && workers.some(alive)) await new Promise((r) => setTimeout(r, 200));
    expect(workers.filter(alive)).toEqual([]);
  });
});

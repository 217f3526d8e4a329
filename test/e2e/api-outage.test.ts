import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';
import { parseExposition, promtoolProblems, sumOf } from '../support/prometheus';
import { deleteRedisPrefix, testRedisPrefix, TEST_REDIS_URL } from '../support/redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(90000);

async function eventually(probe: () => Promise<boolean>, ms = 20000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await probe().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe('api process (dist/, one process) through PostgreSQL and Redis outages', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let pg: TcpProxy;
  let redis: TcpProxy;
  const prefix = testRedisPrefix();
  let api: NodeProcess;
  let base: string;
  let metricsUrl: string;
  const ready = async () => (await fetch(`${base}/health/ready`)).status;

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    const pgTarget = new URL(ADMIN_DATABASE_URL);
    pg = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
    const redisTarget = new URL(TEST_REDIS_URL);
    redis = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(pg.port);
    const port = await freePort();
    api = startNodeProcess('api/main.js', testEnv(
      { databaseUrl: viaProxy.toString(), redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
      { PORT: String(port), METRICS_PORT: '0', API_WORKERS: '1', REDIS_URL: `redis://127.0.0.1:${redis.port}`, LOG_LEVEL: 'info' },
    ));
    metricsUrl = `http://127.0.0.1:${String((await api.waitForLog((l) => l.message === 'metrics listening')).port)}/metrics`;
    await api.waitForLog((l) => l.message === 'api listening');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    api?.kill();
    await api?.exited;
    await pg?.close();
    await redis?.close();
    await deleteRedisPrefix(prefix);
    await db?.drop();
    await roots?.cleanup();
  });

  it('is ready, and serves its own /metrics, promtool-clean', async () => {
    expect(await ready()).toBe(200);
    const text = await (await fetch(metricsUrl)).text();
    expect(promtoolProblems(text)).toBe('');
    expect(text).toMatch(/^ferry_products\{/m);
  });

  it('answers 503 while PostgreSQL is cut off, keeps serving metrics, and is ready again without a restart', async () => {
    pg.cut();
    try {
      expect(await eventually(async () => (await ready()) === 503)).toBe(true);
      const body = (await (await fetch(`${base}/health/ready`)).json()) as { error: { message: string } };
      expect(body.error.message).toMatch(/postgres/);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const m = parseExposition(await (await fetch(metricsUrl)).text());
      expect(sumOf(m, 'ferry_metrics_collect_errors_total')).toBeGreaterThan(0);
    } finally {
      pg.restore();
    }
    expect(await eventually(async () => (await ready()) === 200)).toBe(true);
    expect(api.child.exitCode).toBeNull();
  });

  it('answers 503 while Redis is cut off and recovers by itself', async () => {
    redis.cut();
    try {
      expect(await eventually(async () => (await ready()) === 503)).toBe(true);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    } finally {
      redis.restore();
    }
    expect(await eventually(async () => (await ready()) === 200)).toBe(true);
    expect(api.child.exitCode).toBeNull();
    expect(api.lines.filter((l) => l.message === 'api listening')).toHaveLength(1);
  });
});

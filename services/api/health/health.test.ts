import request from 'supertest';
import { bearer, INSTANCE_ADMIN_TOKEN, startApiInstance, type ApiInstance } from '../../../test/support/api-instance';
import { ADMIN_DATABASE_URL, createTestDatabase } from '../../../test/support/database';
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { checkMigrations } from './dependency-checks';

/** Polls `probe` until it returns true (a dependency reconnects by itself, within seconds). */
async function eventually(probe: () => Promise<boolean>, ms = 15000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('health endpoints', () => {
  let api: ApiInstance;
  let pg: TcpProxy;
  let redis: TcpProxy;

  beforeAll(async () => {
    const pgTarget = new URL(ADMIN_DATABASE_URL);
    pg = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
    const redisTarget = new URL(TEST_REDIS_URL);
    redis = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
    // The api reaches PostgreSQL and Redis through proxies the test can cut; the shared servers keep running.
    api = await startApiInstance({
      databaseUrl: (db) => {
        const u = new URL(db.url);
        u.hostname = '127.0.0.1';
        u.port = String(pg.port);
        return u.toString();
      },
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      env: { DATABASE_POOL_MAX: '3' },
    });
  }, 60000);
  afterAll(async () => {
    await api?.close();
    await pg?.close();
    await redis?.close();
  });

  it('answers live without consulting anything, never cached', async () => {
    const res = await request(api.app).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('is ready with every dependency up and the schema at head', async () => {
    const res = await request(api.app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.checks).toMatchObject({ postgres: { status: 'ok' }, redis: { status: 'ok' }, migrations: { status: 'ok', pending: [] } });
    expect((await request(api.app).get('/health/startup')).status).toBe(200);
  });

  it('turns 503 naming postgres while PostgreSQL is unreachable, and recovers by itself', async () => {
    pg.cut();
    try {
      const down = await request(api.app).get('/health/ready');
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe('not_ready');
      expect(down.body.error.message).toMatch(/postgres/);
      expect(down.body.checks.redis.status).toBe('ok');
      expect((await request(api.app).get('/health/live')).status).toBe(200);
      const summary = await request(api.app).get('/health');
      expect(summary.body).toMatchObject({ status: 'degraded', database: 'disconnected' });
    } finally {
      pg.restore();
    }
    expect(await eventually(async () => (await request(api.app).get('/health/ready')).status === 200)).toBe(true);
  });

  it('turns 503 naming redis while Redis is unreachable, and recovers by itself', async () => {
    redis.cut();
    try {
      const down = await request(api.app).get('/health/ready');
      expect(down.status).toBe(503);
      expect(down.body.error.message).toMatch(/redis/);
      expect(down.body.checks.postgres.status).toBe('ok');
    } finally {
      redis.restore();
    }
    expect(await eventually(async () => (await request(api.app).get('/health/ready')).status === 200)).toBe(true);
  });

  it('summarises status, system figures and the database in /health', async () => {
    const res = await request(api.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'healthy',
      service: 'ferry-api',
      version: api.config.version,
      timestamp: expect.any(String),
      system: {
        cpu_percent: expect.any(Number),
        memory_percent: expect.any(Number),
        disk_usage: { total: expect.any(Number), used: expect.any(Number), free: expect.any(Number), percent: expect.any(Number) },
      },
      database: 'connected',
    });
  });

  it('gives the detailed report to admin tokens only', async () => {
    expect((await request(api.app).get('/health/detailed')).status).toBe(401);
    const res = await request(api.app).get('/health/detailed').set(bearer(INSTANCE_ADMIN_TOKEN));
    expect([200, 503]).toContain(res.status);
    expect(res.body).toMatchObject({
      status: expect.stringMatching(/^(healthy|degraded|unhealthy)$/),
      version: api.config.version,
      uptime_seconds: expect.any(Number),
      checks: {
        postgres: { status: 'ok', latency_ms: expect.any(Number), pool: { max: 3, total: expect.any(Number), idle: expect.any(Number), waiting: expect.any(Number) } },
        redis: { status: 'ok', maxmemory_policy: expect.any(String), used_memory_bytes: expect.any(Number) },
        migrations: { status: 'ok' },
        queue: { status: 'ok', counts: expect.objectContaining({ waiting: 0 }) },
        disks: {
          stage_root: { path: api.config.paths.stageRoot, level: expect.stringMatching(/^(ok|warning|critical)$/) },
          products_root: { path: api.config.paths.productsRoot, percent: expect.any(Number) },
        },
      },
      process: { rss: expect.any(Number), pid: process.pid },
    });
    // The overall status follows the disk levels and Redis eviction policy.
    const disks = [res.body.checks.disks.stage_root.level, res.body.checks.disks.products_root.level];
    const expected = disks.includes('critical') ? 'unhealthy'
      : disks.includes('warning') || res.body.checks.redis.maxmemory_policy !== 'noeviction' ? 'degraded' : 'healthy';
    expect(res.body.status).toBe(expected);
  });

  it('serves host figures for both data roots at /api/metrics/system to a read token', async () => {
    const res = await request(api.app).get('/api/metrics/system').set(bearer(INSTANCE_ADMIN_TOKEN));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      cpu: { percent: expect.any(Number) },
      memory: { total: expect.any(Number), percent: expect.any(Number) },
      disks: { stage_root: { total: expect.any(Number) }, products_root: { total: expect.any(Number) } },
    });
    expect((await request(api.app).get('/api/metrics/system')).status).toBe(401);
  });

  it('reports pending migrations on a database that was never migrated', async () => {
    const empty = await createTestDatabase({ migrated: false });
    try {
      const res = await checkMigrations(empty.pool);
      expect(res.status).toBe('error');
      expect(res.pending?.length).toBeGreaterThan(0);
    } finally {
      await empty.drop();
    }
  });
});

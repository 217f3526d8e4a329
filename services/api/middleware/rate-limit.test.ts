import request from 'supertest';
import { bearer, INSTANCE_ADMIN_TOKEN, startApiInstance, type ApiInstance } from '../../../test/support/api-instance';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { startTcpProxy } from '../../../test/support/tcp-proxy';

describe('rate limiting shared through Redis', () => {
  let api: ApiInstance;
  let second: ReturnType<ApiInstance['replica']>;
  beforeAll(async () => {
    api = await startApiInstance({ env: { RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_TOKEN: '4', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    // A second api process on the same Redis: counters are shared, so the limit holds across replicas.
    second = api.replica();
  });
  afterAll(() => api.close());

  it('answers 429 rate_limited with Retry-After once two replicas together pass the per-address limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(i % 2 === 0 ? api.app : second.app).get('/api/status');
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body.error.code).toBe('rate_limited');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('counts an authenticated caller by token, apart from its address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await request(i % 2 === 0 ? second.app : api.app).get('/api/status').set(bearer(INSTANCE_ADMIN_TOKEN))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('never limits the health endpoints', async () => {
    for (let i = 0; i < 5; i++) expect((await request(api.app).get('/health/live')).status).toBe(200);
  });
});

describe('rate limiting while Redis is unreachable', () => {
  it('lets requests through rather than failing them, and limits again once Redis is back', async () => {
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const api = await startApiInstance({ redisUrl: `redis://127.0.0.1:${proxy.port}`, env: { RATE_LIMIT_PER_IP: '2' } });
    try {
      proxy.cut();
      for (let i = 0; i < 4; i++) expect((await request(api.app).get('/api/status')).status).not.toBe(429);
      proxy.restore();
      let limited = false;
      for (let i = 0; i < 100 && !limited; i++) {
        limited = (await request(api.app).get('/api/status')).status === 429;
        if (!limited) await new Promise((r) => setTimeout(r, 100));
      }
      expect(limited).toBe(true);
    } finally {
      await api.close();
      await proxy.close();
    }
  });
});

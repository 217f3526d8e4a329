import { Redis } from 'ioredis';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { enqueuePublish } from '../../core/jobs/publish-queue';
import { workerHeartbeatKey as heartbeatKey } from '../../core/jobs/heartbeat-key';

describe('GET /api/status', () => {
  let t: TestApi;
  let redis: Redis;
  beforeAll(async () => {
    t = await createTestApi();
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it('reports empty queue counts and a null heartbeat when no worker ever beat', async () => {
    const res = await request(t.app).get('/api/status').set(authHeader());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      queue: { waiting: 0, active: 0, delayed: 0, failed: 0 },
      worker_heartbeat: null,
      workers: [],
      paused: [],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('reports queued jobs and the newest heartbeat across worker instances', async () => {
    await enqueuePublish(t.deps.queue, 'a');
    await enqueuePublish(t.deps.queue, 'b', 60_000);
    const newest = Date.now() - 2000;
    await redis.set(heartbeatKey(t.redisPrefix, 'worker-1'), String(newest - 60_000), 'EX', 60);
    await redis.set(heartbeatKey(t.redisPrefix, 'worker-2'), String(newest), 'EX', 60);
    const res = await request(t.app).get('/api/status').set(authHeader());
    expect(res.status).toBe(200);
    expect(res.body.queue).toEqual({ waiting: 1, active: 0, delayed: 1, failed: 0 });
    expect(res.body.worker_heartbeat).toEqual({ instance: 'worker-2', at: new Date(newest).toISOString(), age_seconds: expect.any(Number) });
    expect(res.body.worker_heartbeat.age_seconds).toBeGreaterThanOrEqual(2);
    // Every live worker, oldest heartbeat first: a stuck one among several is visible.
    expect(res.body.workers.map((w: { instance: string }) => w.instance)).toEqual(['worker-1', 'worker-2']);
    expect(res.body.workers[0]).toEqual({ instance: 'worker-1', last_seen: expect.any(String), age_seconds: expect.any(Number), copies: [], bandwidth_limit_bytes_per_sec: null });
  });

  it('answers 401 without a token', async () => {
    const res = await request(t.app).get('/api/status');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

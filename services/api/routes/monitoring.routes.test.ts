import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { TEST_REDIS_URL } from '../../../test/support/redis';
import { registryCounts, seedEvent, seedProduct } from '../../../test/support/products';
import { enqueuePublish, PUBLISH_QUEUE, publishJobId } from '../../core/jobs/publish-queue';

describe('monitoring routes', () => {
  let t: TestApi;
  beforeEach(async () => {
    t = await createTestApi({ env: { PUBLISH_MAX_ATTEMPTS: '3' } });
  });
  afterEach(() => t.close());

  const get = (url: string) => request(t.app).get(url).set(authHeader());
  const post = (url: string) => request(t.app).post(url).set(authHeader());
  const events = async (dataId: string) =>
    (await t.db.pool.query('SELECT event, attempt, from_status, to_status, error FROM product_events WHERE data_id = $1 ORDER BY id', [dataId])).rows;

  describe('GET /api/monitoring/publish/status', () => {
    it('reports counts, attempts exceeded, success rate and recent failures, field by field', async () => {
      const pub = await seedProduct(t.db.pool, { data_id: 'pub1', status: 'published', published_path: 'pub1.fits' });
      await seedProduct(t.db.pool, { data_id: 'pub2', status: 'published', data_type: 'mosaic' });
      await seedProduct(t.db.pool, { data_id: 'stg1', status: 'staging' });
      await seedProduct(t.db.pool, { data_id: 'run1', status: 'publishing' });
      const f1 = await seedProduct(t.db.pool, { data_id: 'fail1', status: 'failed', publish_attempts: 3 });
      await seedProduct(t.db.pool, { data_id: 'fail2', status: 'failed', publish_attempts: 1, error_class: 'checksum_mismatch' });
      // In the window, by each product's latest outcome: pub1 published, fail1 failed → 1 of 2 products.
      for (let i = 0; i < 3; i++) await seedEvent(t.db.pool, pub, { from: 'publishing', to: 'published' });
      await seedEvent(t.db.pool, f1, { from: 'publishing', to: 'staging', error_class: 'io_error' });
      await seedEvent(t.db.pool, f1, { from: 'publishing', to: 'failed', error_class: 'io_error' });
      // Not attempts (claims, registrations, leases released on shutdown), and attempts outside the 24 h window, do not count.
      await seedEvent(t.db.pool, f1, { from: 'staging', to: 'publishing' });
      await seedEvent(t.db.pool, f1, { from: null, to: 'staging' });
      await seedEvent(t.db.pool, f1, { from: 'publishing', to: 'staging', event: 'lease_released' });
      await seedEvent(t.db.pool, f1, { from: 'publishing', to: 'failed', at: new Date(Date.now() - 25 * 3600_000) });

      const res = await get('/api/monitoring/publish/status');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        total_published: 2,
        total_staging: 1,
        total_publishing: 1,
        failed_publishes: 2,
        max_attempts_exceeded: 1,
        total_discarded: 0,
        total_retracted: 0,
        total_held: 0,
        // Two products had an outcome: below SUCCESS_RATE_MIN_PRODUCTS (20), so no rate.
        success_rate_percent: null,
        success_rate: { window_hours: 24, products: 2, succeeded: 1, min_products: 20, enough_data: false },
        recent_failures_24h: 1,
        oldest_waiting_age_seconds: expect.any(Number),
        oldest_failed_age_seconds: expect.any(Number),
        paused: [],
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
    });

    it('reports "not enough data" (null) and zeros on an empty registry', async () => {
      const res = await get('/api/monitoring/publish/status');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        total_published: 0, total_staging: 0, total_publishing: 0, failed_publishes: 0, max_attempts_exceeded: 0,
        total_discarded: 0, total_retracted: 0, total_held: 0,
        success_rate_percent: null, success_rate: { window_hours: 24, products: 0, succeeded: 0, min_products: 20, enough_data: false },
        recent_failures_24h: 0, oldest_waiting_age_seconds: 0, oldest_failed_age_seconds: 0, paused: [], timestamp: expect.any(String),
      });
    });
  });

  describe('GET /api/monitoring/publish/failed', () => {
    beforeEach(async () => {
      await seedProduct(t.db.pool, { data_id: 'f_new', status: 'failed', publish_attempts: 3, publish_error: 'no space', created_at: new Date('2026-03-01T00:00:00Z') });
      await seedProduct(t.db.pool, { data_id: 'f_old', status: 'failed', publish_attempts: 1, publish_error: 'checksum', created_at: new Date('2026-01-01T00:00:00Z') });
      await seedProduct(t.db.pool, { data_id: 'f_mid', status: 'failed', publish_attempts: 2, created_at: new Date('2026-02-01T00:00:00Z') });
      await seedProduct(t.db.pool, { data_id: 'ok', status: 'published' });
    });

    it('lists failed products by failure time, oldest first, field by field', async () => {
      const res = await get('/api/monitoring/publish/failed');
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(3);
      // Seeded (failed) in the order f_new, f_old, f_mid.
      expect(res.body.failed_publishes.map((f: { data_id: string }) => f.data_id)).toEqual(['f_new', 'f_old', 'f_mid']);
      expect(res.body.failed_publishes[1]).toEqual({
        data_id: 'f_old',
        data_type: 'image',
        stage_path: 'f_old.fits',
        publish_attempts: 1,
        publish_error: 'checksum',
        error_class: null,
        failed_at: expect.stringMatching(/Z$/),
        created_at: '2026-01-01T00:00:00.000Z',
      });
      const newest = await get('/api/monitoring/publish/failed?order=newest');
      expect(newest.body.failed_publishes.map((f: { data_id: string }) => f.data_id)).toEqual(['f_mid', 'f_old', 'f_new']);
    });

    it('keeps products with at most max_attempts attempts, and honours limit', async () => {
      const res = await get('/api/monitoring/publish/failed?max_attempts=2&limit=1');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ count: 1, failed_publishes: [expect.objectContaining({ data_id: 'f_old' })] });
      const both = await get('/api/monitoring/publish/failed?max_attempts=2');
      expect(both.body.failed_publishes.map((f: { data_id: string }) => f.data_id)).toEqual(['f_old', 'f_mid']);
    });

    it('answers 400 validation_error for a limit above the cap', async () => {
      const res = await get('/api/monitoring/publish/failed?limit=501');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'validation_error', message: expect.stringMatching(/^limit: /), details: expect.any(Object) } });
    });
  });

  describe('POST /api/monitoring/publish/retry/{data_id}', () => {
    it('moves a failed product back to staging, records it and queues it; answers queued at once', async () => {
      await seedProduct(t.db.pool, { data_id: 'r1', status: 'failed', publish_attempts: 3, publish_error: 'io', error_class: 'io_error' });
      const res = await post('/api/monitoring/publish/retry/r1');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ retried: true, published: false, status: 'queued', published_path: null });
      const row = (await t.db.pool.query("SELECT status, publish_attempts, publish_error, next_attempt_at FROM products WHERE data_id = 'r1'")).rows[0];
      expect(row).toEqual({ status: 'staging', publish_attempts: 0, publish_error: null, next_attempt_at: expect.any(Date) });
      expect(await events('r1')).toEqual([{ event: 'retry_requested', attempt: 3, from_status: 'failed', to_status: 'staging', error: 'io' }]);
      expect(await (await t.deps.queue.getJob(publishJobId('r1')))?.getState()).toBe('waiting');
    });

    it('retries the job left in BullMQ\'s failed set', async () => {
      await seedProduct(t.db.pool, { data_id: 'r2', status: 'failed', publish_attempts: 1 });
      const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      const worker = new Worker(PUBLISH_QUEUE, async () => { throw new Error('simulated failure'); }, { connection, prefix: t.redisPrefix });
      const failed = new Promise((resolve) => worker.once('failed', resolve));
      await enqueuePublish(t.deps.queue, 'r2');
      await failed;
      await worker.close();
      connection.disconnect();
      expect(await (await t.deps.queue.getJob(publishJobId('r2')))?.getState()).toBe('failed');

      const res = await post('/api/monitoring/publish/retry/r2');
      expect(res.status).toBe(200);
      expect(res.body.retried).toBe(true);
      expect(await (await t.deps.queue.getJob(publishJobId('r2')))?.getState()).toBe('waiting');
    });

    it('waits for the outcome with ?wait and reports the publish', async () => {
      await seedProduct(t.db.pool, { data_id: 'r3', status: 'failed', publish_attempts: 3 });
      // Plays the worker: once the retry put the product back in staging, publishes it.
      const worker = (async () => {
        for (let i = 0; i < 200; i++) {
          const done = await t.db.pool.query(
            `UPDATE products SET status = 'published', published_path = 'r3.fits', published_at = now() WHERE data_id = 'r3' AND status = 'staging'`,
          );
          if (done.rowCount === 1) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const res = await post('/api/monitoring/publish/retry/r3?wait=20');
      await worker;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ retried: true, published: true, status: 'published', published_path: 'r3.fits' });
    });

    it('answers with the current state when the wait runs out', async () => {
      await seedProduct(t.db.pool, { data_id: 'r4', status: 'failed' });
      const res = await post('/api/monitoring/publish/retry/r4?wait=0.5');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ retried: true, published: false, status: 'queued', published_path: null });
    });

    it('changes nothing for a product already in staging: retried false, queued', async () => {
      await seedProduct(t.db.pool, { data_id: 'r5', status: 'staging' });
      const before = await registryCounts(t.db.pool);
      const res = await post('/api/monitoring/publish/retry/r5');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ retried: false, published: false, status: 'queued', published_path: null });
      expect(await registryCounts(t.db.pool)).toEqual(before);
    });

    it('answers 409 already_published for a published product', async () => {
      await seedProduct(t.db.pool, { data_id: 'r6', status: 'published', published_path: 'r6.fits' });
      const res = await post('/api/monitoring/publish/retry/r6');
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: 'already_published', message: expect.stringContaining('r6.fits') } });
      expect(await events('r6')).toEqual([]);
    });

    it('answers 404 product_not_found for an unknown data_id', async () => {
      const res = await post('/api/monitoring/publish/retry/ghost');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'product_not_found', message: expect.stringContaining('ghost') } });
    });

    it('answers 400 validation_error for a wait above 300 seconds, changing nothing', async () => {
      await seedProduct(t.db.pool, { data_id: 'r7', status: 'failed' });
      const res = await post('/api/monitoring/publish/retry/r7?wait=301');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_error', message: expect.stringMatching(/^wait: .*300/) });
      expect((await t.db.pool.query("SELECT status FROM products WHERE data_id = 'r7'")).rows[0].status).toBe('failed');
    });
  });

  describe('POST /api/monitoring/publish/retry-all', () => {
    async function seedFailed(n: number, attempts = 3) {
      for (let i = 0; i < n; i++) {
        await seedProduct(t.db.pool, {
          data_id: `ra${String(i).padStart(2, '0')}`, status: 'failed', publish_attempts: attempts,
          created_at: new Date(Date.UTC(2026, 0, 1, 0, i)),
        });
      }
    }

    it('retries the oldest failed products first, up to the default limit of 10', async () => {
      await seedFailed(12);
      const res = await post('/api/monitoring/publish/retry-all');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        total_attempted: 10,
        successful: 10,
        failed: 0,
        verb: 'retry',
        dry_run: false,
        total_selected: 10,
        done: 10,
        results: Array.from({ length: 10 }, (_, i) => expect.objectContaining({ data_id: `ra${String(i).padStart(2, '0')}`, success: true, outcome: 'done' })),
      });
      const left = await t.db.pool.query("SELECT data_id FROM products WHERE status = 'failed' ORDER BY data_id");
      expect(left.rows.map((r) => r.data_id)).toEqual(['ra10', 'ra11']);
      expect((await t.deps.queue.getJobCounts('waiting')).waiting).toBe(10);
    });

    it('keeps to max_attempts and limit', async () => {
      await seedFailed(3, 5);
      await seedProduct(t.db.pool, { data_id: 'few', status: 'failed', publish_attempts: 1 });
      const res = await post('/api/monitoring/publish/retry-all?max_attempts=2&limit=5');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total_attempted: 1, successful: 1, failed: 0, results: [{ data_id: 'few', success: true }] });
    });

    it('never queues a product twice when two calls run at once', async () => {
      await seedFailed(30);
      const [a, b] = await Promise.all([post('/api/monitoring/publish/retry-all?limit=20'), post('/api/monitoring/publish/retry-all?limit=20')]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const ids = [...a.body.results, ...b.body.results].map((r: { data_id: string }) => r.data_id);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      const retriedEvents = await t.db.pool.query("SELECT count(*)::int AS n, count(DISTINCT data_id)::int AS d FROM product_events WHERE event = 'retry_requested'");
      expect(retriedEvents.rows[0]).toEqual({ n: 30, d: 30 });
      expect((await t.deps.queue.getJobCounts('waiting')).waiting).toBe(30);
    });

    it('answers an empty result when nothing failed', async () => {
      const res = await post('/api/monitoring/publish/retry-all');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total_attempted: 0, successful: 0, failed: 0, results: [] });
    });

    it('answers 400 validation_error for a limit above the cap', async () => {
      const res = await post('/api/monitoring/publish/retry-all?limit=501');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_error', message: expect.stringMatching(/^limit: /) });
    });
  });
});

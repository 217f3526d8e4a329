import { createTestDatabase, planWithoutSeqScans, type TestDatabase } from '../../../test/support/database';
import { parseExposition, promtoolProblems } from '../../../test/support/prometheus';
import { deleteRedisPrefix, testRedisPrefix, TEST_REDIS_URL } from '../../../test/support/redis';
import { createPublishQueue, enqueuePublish } from '../jobs/publish-queue';
import { createMetrics } from './create-metrics';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import { registryCollector } from './registry-collector';

describe('metrics listener and registry-wide gauges', () => {
  let db: TestDatabase;
  const prefix = testRedisPrefix();
  const queue = createPublishQueue({ url: TEST_REDIS_URL }, prefix);
  const metrics = createMetrics('api', '1.2.3');
  let server: MetricsServer;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    metrics.setCollector(registryCollector(metrics, { db: db.pool, queue, productTypes: ['image', 'ms'], maxAttempts: 3 }));
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, render: () => metrics.registry.metrics(), contentType: metrics.registry.contentType });
  });
  afterAll(async () => {
    await server.close();
    await queue.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('reports zero for every allowed type and status on an empty registry', async () => {
    const m = parseExposition(await scrape());
    expect(m.get('ferry_products{status="staging",data_type="image",service="ferry-api"}')).toBe(0);
    expect(m.get('ferry_products{status="failed",data_type="ms",service="ferry-api"}')).toBe(0);
    expect(m.get('ferry_oldest_staged_product_age_seconds{service="ferry-api"}')).toBe(0);
    expect(m.get('ferry_build_info{version="1.2.3",role="api",service="ferry-api"}')).toBe(1);
  });

  it('moves with the registry: counts, oldest staged age, max attempts exceeded and queue depth', async () => {
    await db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, staged_at, status, publish_attempts, held, updated_at)
       VALUES ('a', 'image', 'a', 'a', 'file', now() - interval '1 hour', 'staging', 0, false, now()),
              ('held', 'image', 'h', 'h', 'file', now() - interval '5 hours', 'staging', 0, true, now()),
              ('b', 'image', 'b', 'b', 'file', now(), 'failed', 3, false, now() - interval '2 hours'),
              ('c', 'ms', 'c', 'c', 'directory', now(), 'failed', 1, false, now())`,
    );
    await enqueuePublish(queue, 'a', 60000);
    const m = parseExposition(await scrape());
    expect(m.get('ferry_products{status="staging",data_type="image",service="ferry-api"}')).toBe(2);
    expect(m.get('ferry_products{status="failed",data_type="ms",service="ferry-api"}')).toBe(1);
    // The held product (5 h) waits on purpose: the oldest waiting one is 1 h old.
    expect(m.get('ferry_oldest_staged_product_age_seconds{service="ferry-api"}')).toBeGreaterThanOrEqual(3599);
    expect(m.get('ferry_oldest_staged_product_age_seconds{service="ferry-api"}')).toBeLessThan(2 * 3600);
    expect(m.get('ferry_oldest_failed_product_age_seconds{service="ferry-api"}')).toBeGreaterThanOrEqual(7199);
    expect(m.get('ferry_publishing_paused{scope="*",service="ferry-api"}')).toBe(0);
    expect(m.get('ferry_products_max_attempts_exceeded{service="ferry-api"}')).toBe(1);
    // A pause of the image type takes its staged products out of the age, and shows as paused.
    await db.pool.query(`INSERT INTO publishing_pauses (scope, actor, reason) VALUES ('image', 'test', 'maintenance')`);
    const paused = parseExposition(await scrape());
    expect(paused.get('ferry_oldest_staged_product_age_seconds{service="ferry-api"}')).toBe(0);
    expect(paused.get('ferry_publishing_paused{scope="image",service="ferry-api"}')).toBe(1);
    await db.pool.query('DELETE FROM publishing_pauses');
    expect(m.get('ferry_queue_jobs{state="delayed",service="ferry-api"}')).toBe(1);
  });

  it('keeps answering, and counts the failure, when the database is gone', async () => {
    metrics.setCollector(async () => {
      throw new Error('postgres unreachable');
    });
    const before = parseExposition(await scrape()).get('ferry_metrics_collect_errors_total{service="ferry-api"}') ?? 0;
    const m = parseExposition(await scrape());
    expect(m.get('ferry_metrics_collect_errors_total{service="ferry-api"}')).toBeGreaterThan(before);
    // Last good values stay.
    expect(m.get('ferry_products{status="staging",data_type="image",service="ferry-api"}')).toBe(2);
  });

  it('never needs a scan of products: each registry query can be answered from an index', async () => {
    // With sequential scans priced out, a query without a usable index still shows "Seq Scan on products".
    for (const sql of [
      `SELECT min(staged_at) FROM products WHERE status = 'staging'`,
      `SELECT count(*) FROM products WHERE status = 'failed' AND publish_attempts >= 3`,
    ]) {
      expect(await planWithoutSeqScans(db.pool, sql)).not.toMatch(/Seq Scan on products/);
    }
  });

  it('answers 404 for anything but /metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
  });

  it('passes promtool check metrics', async () => {
    const text = await scrape();
    expect(promtoolProblems(text)).toBe('');
  });
});

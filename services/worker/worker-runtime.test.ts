import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import IORedis from 'ioredis';
import { createTestDatabase, emptyRegistry, type TestDatabase } from '../../test/support/database';
import { createTestRoots, type TestRoots } from '../../test/support/dirs';
import { testEnv } from '../../test/support/env';
import { eventNames, productRow, sha256, stageProduct } from '../../test/support/publish-fixtures';
import { armHook, hookReached, releaseHook } from '../../test/support/test-hooks';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../../test/support/redis';
import { waitFor } from '../../test/support/wait-for';
import { loadConfig } from '../core/config';
import { resumePublishing } from '../core/domain/lifecycle/resume-publishing';
import { retryProduct } from '../core/domain/monitoring/retry-product';
import { workerHeartbeatKey } from '../core/jobs/heartbeat-key';
import { createPublishQueue, enqueuePublish, publishJobId } from '../core/jobs/publish-queue';
import { createLogger } from '../core/logging/create-logger';
import { insertPause } from '../core/repositories/publishing-control.repository';
import { startWorker, type WorkerRuntime } from './worker-runtime';

jest.setTimeout(90000);

describe('worker runtime', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let prefix: string;
  let redis: IORedis;
  let runtimes: WorkerRuntime[] = [];
  let logLines: string[];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis.disconnect();
    await db.drop();
  });
  beforeEach(async () => {
    roots = await createTestRoots();
    prefix = testRedisPrefix();
    logLines = [];
  });
  afterEach(async () => {
    for (const r of runtimes) await r.shutdown();
    runtimes = [];
    await emptyRegistry(db.pool);
    await deleteRedisPrefix(prefix);
    await roots.cleanup();
  });

  function config(extra: Record<string, string> = {}) {
    return loadConfig('worker', testEnv({ databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot }, {
      METRICS_PORT: '0', FERRY_INSTANCE: 'w-test', PUBLISH_LEASE_SECONDS: '5', RECONCILE_INTERVAL_SECONDS: '0.5',
      PUBLISH_BACKOFF_BASE_SECONDS: '0.05', PUBLISH_BACKOFF_MAX_SECONDS: '0.2', SHUTDOWN_GRACE_SECONDS: '2',
      WORKER_HEARTBEAT_FILE: path.join(roots.base, 'heartbeat'), WORKER_HEARTBEAT_INTERVAL_SECONDS: '0.2', LOG_LEVEL: 'info', ...extra,
    }));
  }
  async function start(extra: Record<string, string> = {}) {
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter(Boolean)));
    const rt = await startWorker(config(extra), createLogger({ service: 'ferry-worker', level: 'info', stream }), { exit: () => undefined });
    runtimes.push(rt);
    return rt;
  }
  const status = async (id: string) => (await productRow(db.pool, id)).status;
  /** How many products whose data_id starts with `prefix` are published. */
  const publishedCount = async (prefix = '') =>
    (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM products WHERE status = 'published' AND data_id LIKE $1", [`${prefix}%`])).rows[0]!.n;

  it('publishes a queued product, logs with data_id, attempt and lease, beats and exports metrics', async () => {
    const rt = await start();
    await stageProduct(db.pool, roots.stageRoot, 'a/one.fits', 'hello', { dataId: 'one' });
    await enqueuePublish(rt.queue, 'one');
    await waitFor(async () => (await status('one')) === 'published', 15000, 'publish');
    // The row commits first; the log line and counters follow once the source is removed.
    const line = await waitFor(
      () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'published'),
      5000,
      'the published log line',
    );
    expect(line).toMatchObject({ data_id: 'one', attempt: 1, service: 'ferry-worker', level: 'info' });
    expect(line?.lease).toMatch(/^[0-9a-f-]{36}$/);
    const beat = Number(await redis.get(workerHeartbeatKey(prefix, 'w-test')));
    expect(Date.now() - beat).toBeLessThan(5000);
    expect(Date.now() - Number(await fs.readFile(path.join(roots.base, 'heartbeat'), 'utf8'))).toBeLessThan(5000);
    const body = await (await fetch(`http://127.0.0.1:${rt.metricsPort}/metrics`)).text();
    expect(body).toMatch(/ferry_publishes_completed_total\{[^}]*data_type="image"[^}]*\} 1/);
    expect(body).toMatch(/ferry_published_bytes_total\{[^}]*\} 5/);
    expect(body).toMatch(/ferry_worker_heartbeat_timestamp_seconds\{[^}]*\} \d/);
    expect(body).toMatch(/ferry_products\{[^}]*status="published"[^}]*data_type="image"[^}]*\} 1/);
  });

  it('retries up to PUBLISH_MAX_ATTEMPTS, then fails, and an operator retry succeeds', async () => {
    const rt = await start({ PUBLISH_MAX_ATTEMPTS: '3', PUBLISH_FREE_SPACE_MARGIN_MB: '10000000' });
    await stageProduct(db.pool, roots.stageRoot, 'r.fits', 'retry me', { dataId: 'r' });
    await enqueuePublish(rt.queue, 'r');
    await waitFor(async () => (await status('r')) === 'failed', 15000, 'failed');
    expect(await productRow(db.pool, 'r')).toMatchObject({ publish_attempts: 3, error_class: 'no_space' });
    expect(await eventNames(db.pool, 'r')).toEqual(['claimed', 'retry_scheduled', 'claimed', 'retry_scheduled', 'claimed', 'failed']);
    await waitFor(async () => (await rt.queue.getJobState(publishJobId('r'))) === 'failed', 5000, 'job in the failed set');
    const metrics = await rt.metrics.registry.getSingleMetricAsString('ferry_publish_failures_total');
    expect(metrics).toMatch(/error_class="no_space",outcome="retry"[^}]*\} 2/);
    expect(metrics).toMatch(/error_class="no_space",outcome="failed"[^}]*\} 1/);
    await rt.shutdown();

    const fixed = await start();
    const queue = createPublishQueue(redis, prefix);
    try {
      const logger = createLogger({ service: 'test', level: 'error', stream: new PassThrough() });
      const res = await retryProduct({ pool: db.pool, queue, config: config(), logger }, 'r');
      expect(res.retried).toBe(true);
    } finally {
      await queue.close();
    }
    await waitFor(async () => (await status('r')) === 'published', 15000, 'published after the operator retry');
    expect(await productRow(db.pool, 'r')).toMatchObject({ checksum_sha256: sha256('retry me'), publish_attempts: 1 });
    expect(fixed).toBeDefined();
  });

  it('loses nothing when Redis is flushed mid-run', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `flush-${i}`);
    for (const id of ids) await stageProduct(db.pool, roots.stageRoot, `flush/${id}.fits`, Buffer.alloc(40000, id.length), { dataId: id });
    // Two at a time, one by one (a group would take all 16 at once): most jobs are still waiting in Redis when it is flushed.
    const rt = await start({ PUBLISH_MAX_BYTES_PER_SEC: '200000', PUBLISH_CONCURRENCY: '2', PUBLISH_GROUP_MAX_BYTES: '0' });
    for (const id of ids) await enqueuePublish(rt.queue, id);
    await waitFor(async () => (await db.pool.query(`SELECT 1 FROM products WHERE status = 'published'`)).rowCount! >= 2, 15000, 'first publishes');
    await deleteRedisPrefix(prefix);
    expect(await rt.queue.getJobCounts('wait', 'delayed', 'active')).toEqual({ wait: 0, delayed: 0, active: 0 });

    await waitFor(async () => (await db.pool.query(`SELECT 1 FROM products WHERE status = 'published'`)).rowCount === ids.length, 60000, 'every product published');
    const events = await db.pool.query<{ data_id: string; n: number }>(
      `SELECT data_id, count(*)::int AS n FROM product_events WHERE event = 'published' GROUP BY data_id`,
    );
    expect(events.rows).toHaveLength(ids.length);
    expect(events.rows.every((r) => r.n === 1)).toBe(true);
    expect(await rt.metrics.registry.getSingleMetricAsString('ferry_reconciler_requeued_total')).toMatch(/ferry_reconciler_requeued_total\{[^}]*\} [1-9]/);
  });

  it('publishes every small file due when a job began from that one job, each exactly once, and forgets the jobs it finds', async () => {
    // No sweep but the one at start: only the drain can publish the products without a job.
    const hooks = path.join(roots.base, 'hooks');
    await fs.mkdir(hooks);
    const rt = await start({ PUBLISH_GROUP_MAX_BYTES: '1000', PUBLISH_GROUP_SIZE: '3', RECONCILE_INTERVAL_SECONDS: '3600', PUBLISH_TEST_HOOK_DIR: hooks });
    await rt.reconciler.sweep();
    for (let i = 0; i < 10; i++) await stageProduct(db.pool, roots.stageRoot, `b/s${i}.fits`, `small ${i}`, { dataId: `s${i}` });
    await stageProduct(db.pool, roots.stageRoot, 'b/large.fits', Buffer.alloc(2000, 1), { dataId: 'large' });
    // A job of a product that the drain takes first is dropped from the queue, not run.
    await enqueuePublish(rt.queue, 's9', 60000);
    await armHook(hooks, 'after-scan', 's0');
    await enqueuePublish(rt.queue, 's0');
    // Due only after the job began: its own job's business, not this drain's.
    await hookReached(hooks, 'after-scan', 's0');
    await stageProduct(db.pool, roots.stageRoot, 'b/late.fits', 'late', { dataId: 'late' });
    await releaseHook(hooks, 'after-scan', 's0');
    await waitFor(async () => (await publishedCount()) === 10, 15000, 'the drain');
    for (let i = 0; i < 10; i++) expect(await eventNames(db.pool, `s${i}`)).toEqual(['claimed', 'published', 'source_removed']);
    await waitFor(async () => (await rt.worker.isRunning()) && (await rt.queue.getActiveCount()) === 0, 5000, 'the job to end');
    expect(await status('large')).toBe('staging');
    expect(await status('late')).toBe('staging');
    expect(await rt.queue.getJob(publishJobId('s9'))).toBeUndefined();
    const body = await (await fetch(`http://127.0.0.1:${rt.metricsPort}/metrics`)).text();
    expect(body).toMatch(/ferry_publish_group_size_count(\{[^}]*\})? 4\b/);
  });

  it('publishes the small files of a paused type once the pause is lifted, though only the first of them had a job', async () => {
    const rt = await start({ PUBLISH_GROUP_MAX_BYTES: '1000', PUBLISH_GROUP_SIZE: '3', RECONCILE_INTERVAL_SECONDS: '3600' });
    await rt.reconciler.sweep();
    await insertPause(db.pool, { scope: 'mosaic', actor: 'test', reason: 'test' });
    for (let i = 0; i < 3; i++) {
      await stageProduct(db.pool, roots.stageRoot, `p/i${i}.fits`, `image ${i}`, { dataId: `i${i}` });
      await stageProduct(db.pool, roots.stageRoot, `p/m${i}.fits`, `mosaic ${i}`, { dataId: `m${i}`, dataType: 'mosaic' });
    }
    // As a batch registration queues them: the first of each type's group's worth.
    await enqueuePublish(rt.queue, 'i0');
    await enqueuePublish(rt.queue, 'm0');
    await waitFor(async () => (await publishedCount('i')) === 3, 15000, 'the images');
    await waitFor(async () => (await rt.queue.getJob(publishJobId('m0')))?.isDelayed(), 5000, "the mosaic's job to meet the pause");
    expect(await publishedCount('m')).toBe(0);
    await resumePublishing({ pool: db.pool, queue: rt.queue, logger: createLogger({ service: 'test', level: 'error', stream: new PassThrough() }) }, { dataType: 'mosaic', actor: 'test' });
    await waitFor(async () => (await publishedCount('m')) === 3, 15000, 'the mosaics after the resume');
  });

  it('re-enqueues due products the queue never received', async () => {
    await stageProduct(db.pool, roots.stageRoot, 'lost.fits', 'never queued', { dataId: 'lost' });
    await start();
    await waitFor(async () => (await status('lost')) === 'published', 15000, 'reconciler to publish it');
  });

  it('refuses to start when a data root lacks its marker', async () => {
    await fs.writeFile(path.join(roots.stageRoot, '.ferry-data-root'), '');
    await expect(start({ REQUIRE_DATA_ROOT_MARKER: 'true' })).rejects.toThrow(/PRODUCTS_ROOT.*\.ferry-data-root is missing/);
  });
});

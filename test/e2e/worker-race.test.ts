import fs from 'node:fs/promises';
import path from 'node:path';
import IORedis from 'ioredis';
import { createPublishQueue, enqueuePublish } from '../../services/core/jobs/publish-queue';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { listTree, sha256, stageProduct } from '../support/publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../support/redis';
import { waitFor } from '../support/wait-for';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(150000);

describe('two worker processes racing', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let prefix: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    prefix = testRedisPrefix();
  });
  afterAll(async () => {
    for (const w of workers) await killWorker(w);
    await deleteRedisPrefix(prefix);
    await db.drop();
    await roots.cleanup();
  });

  it('publishes each of 200 products exactly once, with one published event each', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `race-${String(i).padStart(3, '0')}`);
    for (const id of ids) await stageProduct(db.pool, roots.stageRoot, `race/${id}.fits`, `content of ${id}`, { dataId: id });
    for (const name of ['alpha', 'beta']) {
      workers.push(spawnWorker(testEnv({ databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot }, {
        // Groups of 8: at the default 64, one worker's first four jobs can claim all 200 products
        // before the other worker's first job arrives, and there is no race left to test.
        FERRY_INSTANCE: name, METRICS_PORT: '0', LOG_LEVEL: 'info', PUBLISH_CONCURRENCY: '4', PUBLISH_MODE: 'move', PUBLISH_GROUP_SIZE: '8',
        RECONCILE_INTERVAL_SECONDS: '0.5', WORKER_HEARTBEAT_FILE: path.join(roots.base, `${name}.heartbeat`),
      })));
    }
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.message === 'worker started', 20000)));
    // Both reconcilers race the explicit enqueues too; job ids keep each product queued at most once.
    const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createPublishQueue(redis, prefix);
    try {
      for (const id of ids) await enqueuePublish(queue, id);
      for (const id of ids) await enqueuePublish(queue, id);
    } finally {
      await queue.close();
      redis.disconnect();
    }

    await waitFor(async () => (await db.pool.query(`SELECT 1 FROM products WHERE status = 'published'`)).rowCount === ids.length, 120000, 'all published', 250);
    const events = await db.pool.query<{ data_id: string; published: number; claimed: number; worker: string }>(
      `SELECT data_id, count(*) FILTER (WHERE event = 'published')::int AS published, count(*) FILTER (WHERE event = 'claimed')::int AS claimed,
              max(worker) FILTER (WHERE event = 'published') AS worker
         FROM product_events GROUP BY data_id ORDER BY data_id`,
    );
    expect(events.rows).toHaveLength(ids.length);
    expect(events.rows.filter((r) => r.published !== 1)).toEqual([]);
    expect(events.rows.filter((r) => r.claimed !== 1)).toEqual([]);
    expect(new Set(events.rows.map((r) => r.worker))).toEqual(new Set(['alpha', 'beta']));
    const published = (await listTree(path.join(roots.productsRoot, 'race'))).filter((f) => f.endsWith('.fits'));
    expect(published).toHaveLength(ids.length);
    for (const id of ids.slice(0, 20)) {
      expect(sha256(await fs.readFile(path.join(roots.productsRoot, `race/${id}.fits`)))).toBe(sha256(`content of ${id}`));
    }
    expect(await listTree(path.join(roots.productsRoot, '.ferry-tmp'))).toEqual([]);
  });
});

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import IORedis from 'ioredis';
import type { Queue } from 'bullmq';
import { createPublishQueue, enqueuePublish, type PublishJobData } from '../../services/core/jobs/publish-queue';
import { insertProduct } from '../support/publish-fixtures';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { eventNames, listTree, productRow } from '../support/publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../support/redis';
import { waitFor } from '../support/wait-for';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/worker-process';

/** Writes a file of `mb` MiB from a buffer that differs per MiB; returns its SHA-256. */
async function writeLargeFile(file: string, mb: number): Promise<string> {
  const hash = crypto.createHash('sha256');
  const fh = await fs.open(file, 'w');
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < mb; i++) {
      chunk.fill(`chunk-${i}-`);
      hash.update(chunk);
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

jest.setTimeout(150000);

describe('worker process crash safety', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let prefix: string;
  let redis: IORedis;
  let queue: Queue<PublishJobData>;
  let workers: WorkerProcess[] = [];
  let watchers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    prefix = testRedisPrefix();
    redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queue = createPublishQueue(redis, prefix);
  });
  afterEach(async () => {
    for (const stop of watchers) await stop();
    watchers = [];
    for (const w of workers) await killWorker(w);
    workers = [];
    await queue.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
    await roots.cleanup();
  });

  function worker(instance: string, extra: Record<string, string> = {}): WorkerProcess {
    const w = spawnWorker(testEnv({ databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot }, {
      FERRY_INSTANCE: instance, METRICS_PORT: '0', LOG_LEVEL: 'info', PUBLISH_MODE: 'move', RECONCILE_INTERVAL_SECONDS: '1',
      WORKER_HEARTBEAT_FILE: path.join(roots.base, `${instance}.heartbeat`), ...extra,
    }));
    workers.push(w);
    return w;
  }
  const started = (w: WorkerProcess) => w.waitForLog((l) => l.message === 'worker started', 20000);
  const tempDir = () => path.join(roots.productsRoot, '.ferry-tmp');

  async function register(rel: string, size: number, dataId: string) {
    await insertProduct(db.pool, {
      data_id: dataId, data_type: 'image', stage_path: rel, destination_path: rel, kind: 'file', size_bytes: size, file_count: 1, expected_sha256: null, metadata: {},
    });
    await enqueuePublish(queue, dataId);
  }

  /** Watches the final path: it may only ever be absent or complete. */
  function watchFinal(final: string, fullSize: number) {
    const seen = { partial: false, complete: false, stop: false };
    const look = async () => {
      const st = await fs.stat(final).catch(() => undefined);
      if (st) {
        if (st.size === fullSize) seen.complete = true;
        else seen.partial = true;
      }
    };
    const done = (async () => {
      while (!seen.stop) {
        await look();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // One last look after the loop ends, so the state the caller waited for is always seen.
    const stop = async () => {
      seen.stop = true;
      await done;
      await look();
    };
    watchers.push(stop);
    return { seen, stop };
  }

  it('publishes a large file exactly once after the worker is killed with SIGKILL mid-copy', async () => {
    const rel = 'big/large.fits';
    await fs.mkdir(path.join(roots.stageRoot, 'big'));
    const size = 48 * 1024 * 1024;
    const digest = await writeLargeFile(path.join(roots.stageRoot, rel), 48);
    const final = path.join(roots.productsRoot, rel);
    const watcher = watchFinal(final, size);
    const env = { PUBLISH_LEASE_SECONDS: '5', PUBLISH_MAX_BYTES_PER_SEC: String(12 * 1024 * 1024) };

    const first = worker('victim', env);
    await started(first);
    await register(rel, size, 'large');
    // Kill only once bytes are in the temporary area, and prove it.
    const partial = await waitFor(async () => {
      const files = (await listTree(tempDir())).filter((f) => f.endsWith('large.fits'));
      if (files.length === 0) return undefined;
      const st = await fs.stat(path.join(tempDir(), files[0]!)).catch(() => undefined);
      return st && st.size > 0 && st.size < size ? st.size : undefined;
    }, 20000, 'the copy to be under way');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(partial).toBeGreaterThan(0);
    expect((await listTree(tempDir())).length).toBeGreaterThan(0);
    expect((await productRow(db.pool, 'large')).status).toBe('publishing');

    const second = worker('rescuer', env);
    // Move mode: the source goes after the commit, so its event marks the end of the work.
    await waitFor(async () => (await eventNames(db.pool, 'large')).includes('source_removed'), 90000, 'publish after restart', 200);
    await watcher.stop();

    const row = await productRow(db.pool, 'large');
    expect(row).toMatchObject({ status: 'published', checksum_sha256: digest, size_bytes: size, published_path: rel });
    const onDisk = crypto.createHash('sha256').update(await fs.readFile(final)).digest('hex');
    expect(onDisk).toBe(digest);
    expect(watcher.seen).toEqual({ partial: false, complete: true, stop: true });
    expect(await listTree(tempDir())).toEqual([]);
    const events = await eventNames(db.pool, 'large');
    expect(events.filter((e) => e === 'published')).toHaveLength(1);
    expect(events).toContain('lease_reclaimed');
    await expect(fs.access(path.join(roots.stageRoot, rel))).rejects.toThrow();
    expect(second).toBeDefined();
  });

  it('releases the lease at once on SIGTERM mid-copy so another worker completes the product', async () => {
    const rel = 'term/product.fits';
    await fs.mkdir(path.join(roots.stageRoot, 'term'));
    const size = 8 * 1024 * 1024;
    const digest = await writeLargeFile(path.join(roots.stageRoot, rel), 8);
    // A long lease: without the release, nobody else could claim the product for 60 s. The
    // leaving worker copies slowly enough (32 s) that SIGTERM always lands mid-copy, however
    // loaded the machine; the staying one copies at full speed.
    const env = { PUBLISH_LEASE_SECONDS: '60', SHUTDOWN_GRACE_SECONDS: '1' };

    const leaving = worker('leaving', { ...env, PUBLISH_MAX_BYTES_PER_SEC: String(256 * 1024) });
    await started(leaving);
    await register(rel, size, 'term');
    await waitFor(async () => (await listTree(tempDir())).some((f) => f.endsWith('product.fits')), 20000, 'the copy to be under way');
    const staying = worker('staying', env);
    await started(staying);
    const held = await productRow(db.pool, 'term');
    expect(held).toMatchObject({ status: 'publishing', lease_owner: 'leaving' });

    leaving.child.kill('SIGTERM');
    expect(await leaving.exited).toBe(0);
    await waitFor(async () => (await eventNames(db.pool, 'term')).includes('source_removed'), 60000, 'the other worker to publish', 200);

    const events = await db.pool.query<{ event: string; worker: string; created_at: Date }>(
      `SELECT event, worker, created_at FROM product_events WHERE data_id = 'term' ORDER BY id`,
    );
    expect(events.rows.map((e) => `${e.event}:${e.worker}`)).toEqual([
      'claimed:leaving', 'lease_released:leaving', 'claimed:staying', 'published:staying', 'source_removed:staying',
    ]);
    // The second claim came long before the first lease would have run out.
    expect(events.rows[2]!.created_at.getTime()).toBeLessThan(held.lease_expires_at!.getTime());
    const row = await productRow(db.pool, 'term');
    expect(row).toMatchObject({ checksum_sha256: digest, publish_attempts: 1 });
    expect(await listTree(tempDir())).toEqual([]);
  });
});

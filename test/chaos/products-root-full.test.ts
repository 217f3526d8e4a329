import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProductRow } from '../../services/core/repositories/product.types';
import {
  assertChaosInvariants, callApi, registerViaApi, stageFiles, startChaosApi, startChaosWorker, waitAllPublished, watchProductsRoot,
  type ChaosApi, type ChaosTarget,
} from '../support/chaos';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { listTree } from '../support/publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../support/redis';
import { mountSmallFs, type SmallFs } from '../support/small-fs';
import { waitFor } from '../support/wait-for';
import { killWorker, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(180000);

const MiB = 1024 * 1024;

// PRODUCTS_ROOT is an 8 MiB file system (tmpfs, or a loop-mounted ext4 image), most of it taken
// by a ballast file; the stage stays on the ordinary disk (only the temporary area must share the
// products' file system). Mounting needs root, which CI has.
const asRoot = process.getuid?.() === 0;
(asRoot ? describe : describe.skip)('chaos: the products root is full', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let prefix: string;
  let small: SmallFs | undefined;
  let api: ChaosApi | undefined;
  let worker: WorkerProcess | undefined;
  let watcher: ReturnType<typeof watchProductsRoot> | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    prefix = testRedisPrefix();
    small = await mountSmallFs(roots.productsRoot, 8);
  });
  afterAll(async () => {
    await watcher?.stop();
    await killWorker(worker);
    await api?.stop();
    await small?.unmount();
    await deleteRedisPrefix(prefix);
    await db?.drop();
    await roots?.cleanup();
  });

  it('fails publishes with no_space and a clear message, leaves nothing partial, and publishes them after space is freed and a retry', async () => {
    const target: ChaosTarget = { databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix, roots };
    const ballast = path.join(roots.productsRoot, 'ballast.bin');
    await fs.writeFile(ballast, crypto.randomBytes(5.5 * MiB));
    const products = await stageFiles(roots.stageRoot, 'full', 6, MiB, MiB + 64 * 1024);
    watcher = watchProductsRoot(roots.productsRoot, products);
    api = await startChaosApi(target, 'api');
    // No free-space margin and overlapping copies: some attempts pass the free-space check and then
    // hit ENOSPC mid-copy, the others are refused by the check; both must leave nothing behind.
    worker = await startChaosWorker(target, 'worker', {
      PUBLISH_FREE_SPACE_MARGIN_MB: '0', PUBLISH_MAX_ATTEMPTS: '2', PUBLISH_CONCURRENCY: '3', PUBLISH_BACKOFF_BASE_SECONDS: '0.2',
      PUBLISH_BACKOFF_MAX_SECONDS: '1', PUBLISH_MAX_BYTES_PER_SEC: String(4 * MiB),
    });
    for (const p of products) await registerViaApi(api.base, p);

    await waitFor(async () => (await db.pool.query(`SELECT 1 FROM products WHERE status IN ('staging', 'publishing')`)).rowCount === 0, 90000, 'every product published or failed', 200);
    const failed = (await db.pool.query<ProductRow>(`SELECT * FROM products WHERE status = 'failed' ORDER BY data_id`)).rows;
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) {
      expect({ id: r.data_id, cls: r.error_class }).toEqual({ id: r.data_id, cls: 'no_space' });
      expect(r.publish_error).toMatch(/need \d+ bytes|no space left on device/i);
    }
    const listed = await callApi(api.base, 'GET', '/api/monitoring/publish/failed');
    expect(listed.status).toBe(200);
    expect((listed.body.failed_publishes as Array<{ data_id: string }>).map((f) => f.data_id).sort()).toEqual(failed.map((r) => r.data_id));
    // Nothing partial: no temporary copy, and the failed products are absent from their final paths.
    expect(await listTree(path.join(roots.productsRoot, '.ferry-tmp'))).toEqual([]);
    for (const r of failed) await expect(fs.access(path.join(roots.productsRoot, r.destination_path))).rejects.toThrow();

    await fs.rm(ballast);
    const retried = await callApi(api.base, 'POST', '/api/monitoring/publish/retry-all?limit=100');
    // Every failed product is taken back to staging. One whose enqueue lost a race with the worker
    // still finishing its failed job is reported success: false with the error, and the reconciler
    // enqueues it (docs/registry-api.md); what matters is that all of them publish.
    expect(retried).toMatchObject({ status: 200, body: { total_attempted: failed.length } });
    const results = retried.body.results as Array<{ data_id: string; success: boolean; error?: string }>;
    expect(results.map((r) => r.data_id).sort()).toEqual(failed.map((r) => r.data_id));
    expect(results.filter((r) => !r.success && !r.error)).toEqual([]);
    await waitAllPublished(db.pool, products, 60000);
    const seen = await watcher.stop();
    expect(seen.partial).toEqual([]);
    expect(seen.strays).toEqual(['ballast.bin']);
    await assertChaosInvariants(db.pool, roots.productsRoot, products);
    expect(small!.kind).toMatch(/tmpfs|ext4-loop/);
  });
});

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { registerViaApi, startChaosApi, startChaosWorker, type ChaosApi, type ChaosTarget } from '../support/chaos';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, writeFile, type TestRoots } from '../support/dirs';
import { listTree, productRow, sha256 } from '../support/publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../support/redis';
import { armHook, hookReached, namesAbsolutePath, recordChanges, releaseHook, treeSnapshot } from '../support/test-hooks';
import { waitFor } from '../support/wait-for';
import { killWorker, type WorkerProcess } from '../support/worker-process';
import type { ProductEventRow } from '../../services/core/repositories/product.types';

// A hostile stage writer against a real worker process on a real file system. Each attack is timed
// with the worker's test-only pauses (PUBLISH_TEST_HOOK_DIR): the worker stops at the exact step
// the attack targets, the test swaps the path, and lets it go on.

jest.setTimeout(120000);

interface Rig {
  db: TestDatabase;
  roots: TestRoots;
  hooks: string;
  api: ChaosApi;
  worker: WorkerProcess;
  outside: string;
  stop(): Promise<void>;
}

async function startRig(env: Record<string, string>): Promise<Rig> {
  const db = await createTestDatabase();
  const roots = await createTestRoots();
  const prefix = testRedisPrefix();
  const hooks = path.join(roots.base, 'hooks');
  const outside = path.join(roots.base, 'outside');
  await fs.mkdir(hooks);
  await fs.mkdir(outside);
  const target: ChaosTarget = { databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix, roots };
  const api = await startChaosApi(target, 'api');
  const worker = await startChaosWorker(target, 'worker', { PUBLISH_CONCURRENCY: '1', PUBLISH_TEST_HOOK_DIR: hooks, ...env });
  return {
    db, roots, hooks, api, worker, outside,
    stop: async () => {
      await killWorker(worker);
      await api.stop();
      await deleteRedisPrefix(prefix);
      await db.drop();
      await roots.cleanup();
    },
  };
}

async function events(rig: Rig, dataId: string): Promise<ProductEventRow[]> {
  return (await rig.db.pool.query<ProductEventRow>('SELECT * FROM product_events WHERE data_id = $1 ORDER BY id', [dataId])).rows;
}

async function eventSeen(rig: Rig, dataId: string, what: string): Promise<boolean> {
  return (await events(rig, dataId)).some((e) => `${e.event}:${e.error_class ?? ''}`.startsWith(what));
}

/** Every stored failure text of a product: the row's publish_error and each event's error. */
async function storedErrors(rig: Rig, dataId: string): Promise<string[]> {
  const row = await productRow(rig.db.pool, dataId);
  return [row.publish_error, ...(await events(rig, dataId)).map((e) => e.error)].filter((t): t is string => !!t);
}

/** The content of every file under root, hashed. */
async function contentHashes(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const rel of await listTree(root)) {
    const p = path.join(root, rel);
    if ((await fs.lstat(p)).isFile()) out.add(sha256(await fs.readFile(p)));
  }
  return out;
}

describe('containment: a subdirectory swapped for a symlink to an outside folder mid-copy', () => {
  let rig: Rig;
  // Backoff long enough that the test puts the subdirectory back before the next attempt starts.
  beforeAll(async () => {
    rig = await startRig({ PUBLISH_MODE: 'copy', PUBLISH_BACKOFF_BASE_SECONDS: '6', PUBLISH_BACKOFF_MAX_SECONDS: '6' });
  });
  afterAll(() => rig?.stop());

  it('never publishes an outside byte: the attempt fails source_changed, the outside tree is intact, the genuine product is published later', async () => {
    const genuine = crypto.randomBytes(64 * 1024);
    const foreign = crypto.randomBytes(64 * 1024);
    await writeFile(rig.roots.stageRoot, 'swapdir/a.dat', crypto.randomBytes(128 * 1024));
    const inside = await writeFile(rig.roots.stageRoot, 'swapdir/sub/b.dat', genuine);
    // The outside file looks the same to size-and-time checks: same size, same mtime (to the nanosecond).
    const outsideFile = await writeFile(rig.outside, 'b.dat', foreign);
    execFileSync('touch', ['-r', inside, outsideFile]);
    const outsideBefore = await treeSnapshot(rig.outside);

    await armHook(rig.hooks, 'after-scan', 'swapdir');
    await armHook(rig.hooks, 'after-copy', 'swapdir');
    await registerViaApi(rig.api.base, { dataId: 'swapdir', rel: 'swapdir', size: 0, sha256: '' });
    await hookReached(rig.hooks, 'after-scan', 'swapdir');
    const sub = path.join(rig.roots.stageRoot, 'swapdir/sub');
    const parked = path.join(rig.roots.stageRoot, 'parked-sub');
    await fs.rename(sub, parked);
    await fs.symlink(rig.outside, sub);
    await releaseHook(rig.hooks, 'after-scan', 'swapdir');

    // Put the subdirectory back once the copy is over, whichever way the attempt ended, so the
    // size-and-time verify of the old code would see the tree it scanned.
    const copied = hookReached(rig.hooks, 'after-copy', 'swapdir').then(() => 'copied' as const);
    const failed = waitFor(() => eventSeen(rig, 'swapdir', 'retry_scheduled'), 60000, 'the attempt to fail').then(() => 'failed' as const);
    copied.catch(() => undefined);
    failed.catch(() => undefined);
    await Promise.race([copied, failed]);
    await fs.unlink(sub);
    await fs.rename(parked, sub);
    // Released either way: a pause not reached by this attempt is reached by the next.
    await releaseHook(rig.hooks, 'after-copy', 'swapdir');

    await waitFor(async () => (await productRow(rig.db.pool, 'swapdir')).status === 'published', 60000, 'the product published', 100);
    const ev = (await events(rig, 'swapdir')).map((e) => `${e.event}:${e.error_class ?? ''}`);
    expect(ev).toEqual(['registered:', 'claimed:', 'retry_scheduled:source_changed', 'claimed:', 'published:']);
    const published = path.join(rig.roots.productsRoot, 'swapdir');
    expect(await fs.readFile(path.join(published, 'sub/b.dat'))).toEqual(genuine);
    expect((await contentHashes(rig.roots.productsRoot)).has(sha256(foreign))).toBe(false);
    expect(await treeSnapshot(rig.outside)).toEqual(outsideBefore);
  });
});

describe('containment: a parent of a move-mode source swapped for a symlink into PRODUCTS_ROOT before the removal', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ PUBLISH_MODE: 'move' });
  });
  afterAll(() => rig?.stop());

  it('removes only the source: every published product stays byte-identical and the registry true', async () => {
    const first = crypto.randomBytes(32 * 1024);
    const second = crypto.randomBytes(32 * 1024);
    await writeFile(rig.roots.stageRoot, 'teamy/shared.fits', first);
    await registerViaApi(rig.api.base, { dataId: 'teamy-shared', rel: 'teamy/shared.fits', size: first.length, sha256: sha256(first) });
    await waitFor(async () => eventSeen(rig, 'teamy-shared', 'source_removed'), 60000, 'the first product published and its source removed', 100);

    await writeFile(rig.roots.stageRoot, 'teamx/shared.fits', second);
    await armHook(rig.hooks, 'before-source-removal', 'teamx-shared');
    await registerViaApi(rig.api.base, { dataId: 'teamx-shared', rel: 'teamx/shared.fits', size: second.length, sha256: sha256(second) });
    await hookReached(rig.hooks, 'before-source-removal', 'teamx-shared');
    const parent = path.join(rig.roots.stageRoot, 'teamx');
    await fs.rename(parent, path.join(rig.roots.stageRoot, 'teamx-parked'));
    await fs.symlink(path.join(rig.roots.productsRoot, 'teamy'), parent);
    await releaseHook(rig.hooks, 'before-source-removal', 'teamx-shared');

    await waitFor(async () => eventSeen(rig, 'teamx-shared', 'source_removed'), 60000, 'the second source removed', 100);
    expect(await fs.readFile(path.join(rig.roots.productsRoot, 'teamy/shared.fits'))).toEqual(first);
    expect(await fs.readFile(path.join(rig.roots.productsRoot, 'teamx/shared.fits'))).toEqual(second);
    expect(await productRow(rig.db.pool, 'teamy-shared')).toMatchObject({ status: 'published', checksum_sha256: sha256(first), published_path: 'teamy/shared.fits' });
    expect(await productRow(rig.db.pool, 'teamx-shared')).toMatchObject({ status: 'published', checksum_sha256: sha256(second), published_path: 'teamx/shared.fits', next_attempt_at: null });
    // The source the publish read (through the parent it walked) is what went.
    expect(await listTree(path.join(rig.roots.stageRoot, 'teamx-parked'))).toEqual([]);
    expect((await listTree(rig.roots.productsRoot)).filter((p) => !p.startsWith('.ferry-tmp'))).toEqual(['teamx', 'teamx/shared.fits', 'teamy', 'teamy/shared.fits']);
  });
});

describe('containment: a symlink to an outside folder in place of a scratch folder', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ PUBLISH_MODE: 'move' });
  });
  afterAll(() => rig?.stop());

  it('STAGE_ROOT/.ferry-tmp: the source removal refuses it, nothing outside is touched, the row stays pending', async () => {
    // What the old removal would have deleted: the trash names of the first products.
    for (const id of [1, 2, 3]) await writeFile(rig.outside, `removed-${id}/keep.txt`, `keep ${id}`);
    const before = await treeSnapshot(rig.outside);
    await fs.symlink(rig.outside, path.join(rig.roots.stageRoot, '.ferry-tmp'));
    const changes = recordChanges(rig.outside);
    try {
      const content = crypto.randomBytes(16 * 1024);
      await writeFile(rig.roots.stageRoot, 'scratch/stage.fits', content);
      await registerViaApi(rig.api.base, { dataId: 'stage-scratch', rel: 'scratch/stage.fits', size: content.length, sha256: sha256(content) });
      await rig.worker.waitForLog((l) => l.message === 'source removal failed; the reconciler finishes it' && l.data_id === 'stage-scratch', 60000);
      expect(await productRow(rig.db.pool, 'stage-scratch')).toMatchObject({ status: 'published', checksum_sha256: sha256(content) });
      expect((await productRow(rig.db.pool, 'stage-scratch')).next_attempt_at).not.toBeNull();
      expect(await fs.readFile(path.join(rig.roots.stageRoot, 'scratch/stage.fits'))).toEqual(content);
    } finally {
      changes.stop();
    }
    expect(changes.events).toEqual([]);
    expect(await treeSnapshot(rig.outside)).toEqual(before);
    await fs.unlink(path.join(rig.roots.stageRoot, '.ferry-tmp'));
  });

  it('PRODUCTS_ROOT/.ferry-tmp: the attempt is refused retryably, nothing outside is touched, the stored error names no server path', async () => {
    await writeFile(rig.outside, 'lease-area/keep.txt', 'keep');
    const before = await treeSnapshot(rig.outside);
    const scratch = path.join(rig.roots.productsRoot, '.ferry-tmp');
    await fs.rm(scratch, { recursive: true, force: true });
    await fs.symlink(rig.outside, scratch);
    const changes = recordChanges(rig.outside);
    try {
      await writeFile(rig.roots.stageRoot, 'scratch/products.fits', 'bytes that must not go outside');
      await registerViaApi(rig.api.base, { dataId: 'products-scratch', rel: 'scratch/products.fits', size: 0, sha256: '' });
      await waitFor(() => eventSeen(rig, 'products-scratch', 'retry_scheduled:io_error'), 60000, 'the attempt refused', 100);
    } finally {
      changes.stop();
    }
    expect(changes.events).toEqual([]);
    expect(await treeSnapshot(rig.outside)).toEqual(before);
    const row = await productRow(rig.db.pool, 'products-scratch');
    expect(row.status === 'staging' || row.status === 'publishing').toBe(true);
    expect(row.published_path).toBeNull();
    await expect(fs.lstat(path.join(rig.roots.productsRoot, 'scratch/products.fits'))).rejects.toThrow();
    const texts = await storedErrors(rig, 'products-scratch');
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.filter(namesAbsolutePath)).toEqual([]);
    expect(texts[0]).toContain('PRODUCTS_ROOT/.ferry-tmp');
  });
});

describe('containment: modes and stored errors', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ PUBLISH_MODE: 'copy' });
  });
  afterAll(() => rig?.stop());

  const modeOf = async (p: string) => (await fs.lstat(p)).mode & 0o7777;

  it('publishes a setuid file, a world-writable file and a 0777 folder without those bits', async () => {
    const stage = rig.roots.stageRoot;
    await writeFile(stage, 'modes/suid.bin', 'setuid');
    await writeFile(stage, 'modes/world.bin', 'world-writable');
    await writeFile(stage, 'modes/open/inner.bin', 'inner');
    await writeFile(stage, 'suid-alone.bin', 'a setuid file product');
    await fs.chmod(path.join(stage, 'modes/suid.bin'), 0o4755);
    await fs.chmod(path.join(stage, 'modes/world.bin'), 0o666);
    await fs.chmod(path.join(stage, 'modes/open'), 0o777);
    await fs.chmod(path.join(stage, 'modes'), 0o1777);
    await fs.chmod(path.join(stage, 'suid-alone.bin'), 0o6775);
    await registerViaApi(rig.api.base, { dataId: 'modes', rel: 'modes', size: 0, sha256: '' });
    await registerViaApi(rig.api.base, { dataId: 'suid-alone', rel: 'suid-alone.bin', size: 0, sha256: '' });
    for (const id of ['modes', 'suid-alone']) {
      await waitFor(async () => (await productRow(rig.db.pool, id)).status === 'published', 60000, `${id} published`, 100);
    }
    const out = rig.roots.productsRoot;
    expect((await modeOf(path.join(out, 'modes/suid.bin'))).toString(8)).toBe('755');
    expect((await modeOf(path.join(out, 'modes/world.bin'))).toString(8)).toBe('644');
    expect((await modeOf(path.join(out, 'modes/open'))).toString(8)).toBe('755');
    expect((await modeOf(path.join(out, 'modes'))).toString(8)).toBe('755');
    expect((await modeOf(path.join(out, 'suid-alone.bin'))).toString(8)).toBe('755');
  });

  it('stores a failure that names paths relative to their root only', async () => {
    await writeFile(rig.roots.stageRoot, 'vanishing/gone.fits', 'here at registration');
    await armHook(rig.hooks, 'after-scan', 'vanishing');
    await registerViaApi(rig.api.base, { dataId: 'vanishing', rel: 'vanishing/gone.fits', size: 0, sha256: '' });
    await hookReached(rig.hooks, 'after-scan', 'vanishing');
    await fs.rm(path.join(rig.roots.stageRoot, 'vanishing'), { recursive: true });
    await releaseHook(rig.hooks, 'after-scan', 'vanishing');
    await waitFor(async () => (await productRow(rig.db.pool, 'vanishing')).status === 'failed', 60000, 'the product failed', 100);
    const texts = await storedErrors(rig, 'vanishing');
    expect(texts.length).toBeGreaterThanOrEqual(2);
    expect(texts.filter(namesAbsolutePath)).toEqual([]);
    expect(texts.some((t) => t.includes('STAGE_ROOT/vanishing'))).toBe(true);
    expect(texts.join('\n')).not.toContain(rig.roots.base);
  });
});

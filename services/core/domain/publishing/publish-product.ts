import type { FileHandle } from 'node:fs/promises';
import { LeaseLostError, PublishError } from '../../errors/publish-error';
import { classifyError } from '../../publish/classify-error';
import { copyTree, sameContent, type TreeDigest } from '../../publish/copy-tree';
import { closeAll, isNotDirectory, lstatAt, openRoot, walkDirs } from '../../publish/dir-handle';
import { ensureFreeSpace } from '../../publish/free-space';
import { ensureParentDirs, placeNoClobber } from '../../publish/place-product';
import { mapLimit } from '../../publish/map-limit';
import { openProductParent, parentWalkError, productPaths, type OpenedParent, type ProductPaths } from '../../publish/product-paths';
import { scanTree, snapshotDifference, type TreeSnapshot } from '../../publish/scan-source';
import { createLeaseTempDir, removeLeaseTempDir } from '../../publish/temp-area';
import type { GroupDirs } from '../../publish/group-dirs';
import type { ProductRow } from '../../repositories/product.types';
import { claimProduct } from './claim-product';
import { commitPublish } from './commit-publish';
import { confirmLease, LeaseKeeper } from './extend-lease';
import { recordFailure } from './record-failure';
import { releaseLease } from './release-lease';
import { removeSource } from './remove-source';
import type { Lease, PublishingDeps } from './publishing.types';
import { assertChecksums, validateProduct } from './validate-product';

/** Hooks the worker passes in: a shutdown signal, progress and lifecycle callbacks. */
export interface PublishContext {
  /** Aborted on shutdown after the grace period: the copy stops and the lease is released. */
  shutdownSignal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** The worker's shared bandwidth limiter: waits after each chunk; chunkBytes keeps chunks small enough to pace smoothly. */
  pace?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  chunkBytes?: () => number | undefined;
  /** Retracted or discarded products with file work pending (moving aside, removing the source). */
  onInactive?: (product: ProductRow) => Promise<void>;
  onClaimed?: (lease: Lease, product: ProductRow) => void;
  onWarning?: (message: string, err?: unknown) => void;
  /** Test-only: awaited at fixed moments of an attempt, so a test can act exactly then (PUBLISH_TEST_HOOK_DIR). */
  testHook?: (point: TestHookPoint, dataId: string) => Promise<void>;
}

/** The moments a test may act at: after the scan, after the copy (before the verify), after the commit (before the source removal). */
export type TestHookPoint = 'after-scan' | 'after-copy' | 'before-source-removal';

/** What one publish attempt came to. */
export type PublishResult =
  | { outcome: 'published'; lease: Lease; digest: TreeDigest; durationMs: number; reusedExisting: boolean; reclaimed: boolean }
  | { outcome: 'already_published'; reclaimed: boolean }
  | { outcome: 'skipped'; reason: 'missing' | 'failed' | 'held' | 'inactive'; reclaimed: boolean }
  | { outcome: 'not_due'; until: Date }
  | { outcome: 'paused'; reclaimed: boolean }
  | { outcome: 'retry'; lease: Lease; error: PublishError; nextAttemptAt: Date; reclaimed: boolean }
  | { outcome: 'failed'; lease: Lease; error: PublishError; reclaimed: boolean }
  | { outcome: 'released'; lease: Lease; reclaimed: boolean }
  | { outcome: 'lease_lost'; lease: Lease; reclaimed: boolean };

/**
 * One idempotent publish attempt of one product: claim under a lease (no transaction held while
 * bytes move), copy and hash into PRODUCTS_ROOT/.ferry-tmp/<lease>, verify, place without
 * clobbering, commit guarded by the lease token, then (move mode) remove the source. Every failure
 * is classified and recorded; nothing here throws for a product-level problem.
 */
export async function publishProduct(deps: PublishingDeps, dataId: string, ctx: PublishContext = {}): Promise<PublishResult> {
  const claim = await claimProduct(deps, dataId);
  const reclaimed = 'reclaimedToken' in claim && claim.reclaimedToken !== undefined;
  if (reclaimed) await removeLeaseTempDir(deps.config.paths.productsRoot, claim.reclaimedToken!);
  switch (claim.outcome) {
    case 'missing':
      return { outcome: 'skipped', reason: 'missing', reclaimed };
    case 'failed':
      return { outcome: 'skipped', reason: 'failed', reclaimed };
    case 'held':
      return { outcome: 'skipped', reason: 'held', reclaimed };
    case 'inactive':
      if (claim.product.file_action_pending) await ctx.onInactive?.(claim.product);
      return { outcome: 'skipped', reason: 'inactive', reclaimed };
    case 'not_due':
      return { outcome: 'not_due', until: claim.until };
    case 'paused':
      return { outcome: 'paused', reclaimed };
    case 'published':
      await finishPendingSourceRemoval(deps, claim.product, ctx);
      return { outcome: 'already_published', reclaimed };
    case 'claimed':
      break;
  }
  const lease: Lease = { productId: claim.product.id, dataId, token: claim.token, attempt: claim.product.publish_attempts };
  ctx.onClaimed?.(lease, claim.product);
  const started = Date.now();
  const abort = new AbortController();
  let leaseLost = false;
  const keeper = new LeaseKeeper(deps, lease, () => {
    leaseLost = true;
    abort.abort(new LeaseLostError());
  }, (err) => ctx.onWarning?.('lease extension failed', err));
  const onShutdown = () => abort.abort(new PublishError('internal', 'worker shutting down'));
  if (ctx.shutdownSignal?.aborted) onShutdown();
  ctx.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
  keeper.start();
  let source: OpenedParent | undefined;
  try {
    const placed = await copyVerifyPlace(deps, claim.product, lease, abort.signal, (n) => {
      keeper.tick(n);
      ctx.onBytes?.(n);
    }, ctx);
    source = placed.source;
    const { digest, reusedExisting, paths } = placed;
    await keeper.stop();
    // The (now empty) temp dir goes while the lease is still held: after the commit nothing would
    // remember its token, so a crash between commit and cleanup would orphan it for good.
    await removeLeaseTempDir(deps.config.paths.productsRoot, lease.token).catch((err) => ctx.onWarning?.('temp cleanup failed', err));
    const moveMode = deps.config.publish.mode === 'move';
    const row = await commitPublish(deps, lease, {
      published_path: paths.relative, size_bytes: digest.size, file_count: digest.fileCount,
      checksum_sha256: digest.sha256, manifest: digest.manifest, source_cleanup_pending: moveMode,
    }, Date.now() - started);
    if (moveMode) {
      await ctx.testHook?.('before-source-removal', dataId);
      // The handle the source was scanned through, and the entry scanned: never the path again.
      const verified = { parent: source.parent, name: paths.name, identity: placed.before.entries[0]! };
      await removeSource(deps, row, verified).catch((err) => ctx.onWarning?.('source removal failed; the reconciler finishes it', err));
    }
    return { outcome: 'published', lease, digest, durationMs: Date.now() - started, reusedExisting, reclaimed };
  } catch (thrown) {
    await keeper.stop();
    ctx.shutdownSignal?.removeEventListener('abort', onShutdown);
    await removeLeaseTempDir(deps.config.paths.productsRoot, lease.token).catch((err) => ctx.onWarning?.('temp cleanup failed', err));
    if (leaseLost || thrown instanceof LeaseLostError) return { outcome: 'lease_lost', lease, reclaimed };
    if (ctx.shutdownSignal?.aborted) {
      await releaseLease(deps, lease, 'worker shut down before the copy finished');
      return { outcome: 'released', lease, reclaimed };
    }
    const error = classifyError(thrown);
    const recorded = await recordFailure(deps, lease, error);
    if (recorded.outcome === 'lease_lost') return { outcome: 'lease_lost', lease, reclaimed };
    if (recorded.outcome === 'failed') return { outcome: 'failed', lease, error, reclaimed };
    return { outcome: 'retry', lease, error, nextAttemptAt: recorded.nextAttemptAt, reclaimed };
  } finally {
    ctx.shutdownSignal?.removeEventListener('abort', onShutdown);
    await source?.close();
  }
}

/** What a successful copy-verify-place leaves: the digest, and the still-open handle the source was read through. */
interface Placed {
  digest: TreeDigest;
  reusedExisting: boolean;
  paths: ProductPaths;
  before: TreeSnapshot;
  source: OpenedParent;
}

/**
 * A copy made, hashed and verified in the lease's temp dir and not yet placed — or, with no temp
 * copy, a destination found already there with the same content (existing). The caller places it
 * (placeStaged), then closes `handles`; `source` stays open for the source removal.
 */
export interface StagedCopy {
  digest: TreeDigest;
  existing: boolean;
  paths: ProductPaths;
  before: TreeSnapshot;
  source: OpenedParent;
  /** PRODUCTS_ROOT, and where the copy waits to be placed (absent when existing): its temp dir and name there. */
  products: FileHandle;
  copy?: { dir: FileHandle; name: string };
  /** With syncLater, the copy's own open handle (also in `handles`), for the caller's fsync. */
  written?: FileHandle;
  /** What the caller closes when done with the copy (never a group's shared handles). */
  handles: Array<FileHandle | undefined>;
}

/** Sources a group's verify re-reads at once: each a stat, once the walk to their directory is made again. */
const VERIFIES_IN_FLIGHT = 8;

/** How a copy is made: the abort signal, progress, and whether its fsync is left to a group. */
export interface StageOptions {
  signal: AbortSignal;
  onBytes: (n: number) => void;
  hooks: PublishContext;
  syncLater?: boolean;
  /**
   * A group's shared handles (the group closes them), and whether it checked every lease just
   * before placing. A member's copy is then not verified here: the group verifies all its members'
   * sources once every copy is made (verifyUnchanged).
   */
  group?: { dirs: GroupDirs; leaseChecked: boolean };
}

async function copyVerifyPlace(deps: PublishingDeps, product: ProductRow, lease: Lease, signal: AbortSignal, onBytes: (n: number) => void, hooks: PublishContext): Promise<Placed> {
  const staged = await stageCopy(deps, product, lease, { signal, onBytes, hooks });
  try {
    if (staged.existing) return { digest: staged.digest, reusedExisting: true, paths: staged.paths, before: staged.before, source: staged.source };
    const placed = await placeStaged(deps, product, lease, staged, { signal, onBytes, hooks });
    return { digest: staged.digest, reusedExisting: placed.reusedExisting, paths: staged.paths, before: staged.before, source: staged.source };
  } catch (err) {
    await staged.source.close();
    throw err;
  } finally {
    await closeAll(staged.handles);
  }
}

/**
 * Scans the source through handles, runs the type's validators, then copies and hashes it into the
 * lease's temp dir and verifies the source did not change and the checksums hold. A destination
 * already there is hashed instead: the same content is `existing`, anything else a conflict.
 */
export async function stageCopy(deps: PublishingDeps, product: ProductRow, lease: Lease, opts: StageOptions): Promise<StagedCopy> {
  const { signal, onBytes, hooks } = opts;
  const { stageRoot, productsRoot } = deps.config.paths;
  const ctl = {
    signal, onBytes, pace: hooks.pace, chunkBytes: hooks.chunkBytes?.(), dropModeBits: deps.config.publish.dropModeBits,
    directMinBytes: deps.config.publish.directMinBytes, syncLater: opts.syncLater,
  };
  const paths = productPaths(product.destination_path);
  const label = `STAGE_ROOT/${paths.relative}`;
  const shared = opts.group?.dirs;
  const source = await openProductParent(stageRoot, 'STAGE_ROOT', paths, 'source_missing', shared?.sources);
  const handles: Array<FileHandle | undefined> = [];
  try {
    const before = await scanTree(source.parent, paths.name, product.kind, label);
    await hooks.testHook?.('after-scan', product.data_id);
    const src = { dir: source.parent, name: paths.name, label };
    // The type's validators, before anything is copied; FITS checksums are checked on the copy's bytes.
    const observer = await validateProduct(deps, product, lease, src, before);
    const products = shared?.products ?? await openRoot(productsRoot);
    if (!shared) handles.push(products);

    // A destination already there: same content completes the publish (a crash after the rename),
    // anything else is a conflict and stays untouched.
    const existingParent = shared
      ? await shared.existingParent(paths.parents, () => openFinalParent(products, paths))
      : await openFinalParent(products, paths);
    if (!shared) handles.push(existingParent);
    if (existingParent && (await lstatAt(existingParent, paths.name))) {
      const digest = await copyTree(src, undefined, before, { signal, onBytes });
      await assertSameAsExisting(existingParent, paths, product, digest, signal, onBytes);
      checkExpected(product, digest);
      return { digest, existing: true, paths, before, source, products, handles };
    }

    const margin = deps.config.publish.freeSpaceMarginBytes;
    await (shared ? shared.reserveSpace(before.totalSize, margin) : ensureFreeSpace(productsRoot, before.totalSize, margin));
    // A group's members share its temp dir, each copy named by its product's id (two members may
    // share a base name); a single product has a temp dir of its own and keeps its name there.
    let copy: { dir: FileHandle; name: string };
    if (shared) copy = { dir: shared.temp, name: String(product.id) };
    else {
      const temp = await createLeaseTempDir(products, lease.token);
      handles.push(temp.scratch, temp.lease);
      copy = { dir: temp.lease, name: paths.name };
    }
    let written: FileHandle | undefined;
    const keepOutput = opts.syncLater ? (fh: FileHandle) => {
      written = fh;
      handles.push(fh);
    } : undefined;
    const digest = await copyTree(src, copy, before, { ...ctl, observer, keepOutput });
    await hooks.testHook?.('after-copy', product.data_id);
    // A group verifies its members' sources together, once all its copies are made.
    if (!shared) await throwFirst(verifyUnchanged(stageRoot, [{ paths, product, before }]));
    assertChecksums(observer);
    checkExpected(product, digest);
    return { digest, existing: false, paths, before, source, products, copy, written, handles };
  } catch (err) {
    await closeAll(handles);
    await source.close();
    throw err;
  }
}

/**
 * Places a staged copy under its final name without clobbering, after a last lease check. With
 * `syncDirs` false the final parent is not fsynced here: its handle is returned (`parent`, open;
 * the caller fsyncs and closes it), so a group fsyncs each parent once.
 */
export async function placeStaged(
  deps: PublishingDeps, product: ProductRow, lease: Lease, staged: StagedCopy, opts: StageOptions, syncDirs = true,
): Promise<{ reusedExisting: boolean; parent?: FileHandle }> {
  const { paths, digest } = staged;
  // Last check before the product becomes visible: a worker that lost its lease must not place it.
  if (!opts.group?.leaseChecked && !(await confirmLease(deps, lease))) throw new LeaseLostError();
  const shared = opts.group?.dirs;
  let finalParent: FileHandle;
  try {
    finalParent = shared ? await shared.placeParent(paths.parents) : await ensureParentDirs(staged.products, paths.parents);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new PublishError('conflict', `a parent of PRODUCTS_ROOT/${paths.relative} is not a directory`);
    throw err;
  }
  let keep = false;
  try {
    const final = { dir: finalParent, name: paths.name };
    if ((await placeNoClobber(staged.copy!, final, product.kind, `PRODUCTS_ROOT/${paths.relative}`, syncDirs)) === 'exists') {
      await assertSameAsExisting(finalParent, paths, product, digest, opts.signal, opts.onBytes);
      return { reusedExisting: true };
    }
    keep = !syncDirs;
    return { reusedExisting: false, parent: keep ? finalParent : undefined };
  } finally {
    if (!keep && !shared) await finalParent.close();
  }
}

/** The product's parent under PRODUCTS_ROOT when it exists; a symlink or file on the way is a conflict. */
async function openFinalParent(products: FileHandle, paths: ProductPaths): Promise<FileHandle | undefined> {
  try {
    return await walkDirs(products, paths.parents);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (isNotDirectory(err)) throw new PublishError('conflict', `a parent of PRODUCTS_ROOT/${paths.relative} is not a directory`);
    throw err;
  }
}

/** A copied source and what its scan saw. */
export interface ScannedSource {
  paths: ProductPaths;
  product: ProductRow;
  before: TreeSnapshot;
}

/**
 * The post-copy verify: walks to each source's parent again from STAGE_ROOT (`root`: a group's
 * open handle of it), once per distinct parent, and requires the same entries (dev, ino), sizes
 * and times as the scan; any difference is `source_changed` (retryable). Each source's error, in
 * order; undefined where it is unchanged.
 */
export async function verifyUnchanged(stageRoot: string, sources: readonly ScannedSource[], root?: FileHandle): Promise<unknown[]> {
  const changed = (why: string) => new PublishError('source_changed', `source changed during the copy: ${why}`);
  // A source the walk or the scan can no longer reach as it was: that is a change too.
  const asChanged = (err: unknown) => (err instanceof PublishError ? changed(err.message) : err);
  const errors: unknown[] = sources.map(() => undefined);
  const byParent = new Map<string, number[]>();
  sources.forEach((s, i) => {
    const key = s.paths.parents.join('/');
    const items = byParent.get(key);
    if (items) items.push(i);
    else byParent.set(key, [i]);
  });
  const own = root ? undefined : await openRoot(stageRoot);
  try {
    await Promise.all([...byParent.values()].map(async (items) => {
      let again: FileHandle;
      try {
        again = await walkDirs((root ?? own)!, sources[items[0]!]!.paths.parents);
      } catch (walkErr) {
        // Each source named in its own error, as its own walk would have.
        for (const i of items) errors[i] = asChanged(parentWalkError(walkErr, 'STAGE_ROOT', sources[i]!.paths, 'io_error'));
        return;
      }
      try {
        await mapLimit(items, VERIFIES_IN_FLIGHT, async (i) => {
          const { paths, product, before } = sources[i]!;
          try {
            const why = snapshotDifference(before, await scanTree(again, paths.name, product.kind, `STAGE_ROOT/${paths.relative}`, 'io_error'));
            if (why) errors[i] = changed(why);
          } catch (err) {
            errors[i] = asChanged(err);
          }
        });
      } finally {
        await again.close();
      }
    }));
  } finally {
    await own?.close();
  }
  return errors;
}

/** Throws the first error of a step that returns one per item. */
async function throwFirst(errors: Promise<unknown[]>): Promise<void> {
  const first = (await errors).find((e) => e !== undefined);
  if (first !== undefined) throw first;
}

function checkExpected(product: ProductRow, digest: TreeDigest): void {
  if (product.expected_sha256 && product.expected_sha256 !== digest.sha256) {
    throw new PublishError('checksum_mismatch', `SHA-256 ${digest.sha256} does not match the expected ${product.expected_sha256}`);
  }
}

async function assertSameAsExisting(parent: FileHandle, paths: ProductPaths, product: ProductRow, digest: TreeDigest, signal: AbortSignal, onBytes: (n: number) => void) {
  const label = `PRODUCTS_ROOT/${paths.relative}`;
  let existing: TreeDigest;
  try {
    const snap = await scanTree(parent, paths.name, product.kind, label, 'io_error');
    existing = await copyTree({ dir: parent, name: paths.name, label }, undefined, snap, { signal, onBytes });
  } catch (err) {
    if (err instanceof PublishError && (err.errorClass === 'path_invalid' || err.errorClass === 'unsupported_file_type')) {
      throw new PublishError('conflict', `${label} already exists and is not the same ${product.kind}`);
    }
    throw err;
  }
  if (!sameContent(existing, digest)) {
    throw new PublishError('conflict', `${label} already exists with different content; left untouched`);
  }
}

/**
 * A published move-mode product whose source removal was interrupted: finish it if the source is
 * that product, read and removed through handles walked from STAGE_ROOT without following links.
 * A source no longer at its path counts as removed; a symlink in the way leaves the row pending.
 */
async function finishPendingSourceRemoval(deps: PublishingDeps, row: ProductRow, ctx: PublishContext): Promise<void> {
  if (deps.config.publish.mode !== 'move' || !row.source_removal_pending) return;
  try {
    const paths = productPaths(row.destination_path);
    const label = `STAGE_ROOT/${paths.relative}`;
    let opened: OpenedParent;
    try {
      opened = await openProductParent(deps.config.paths.stageRoot, 'STAGE_ROOT', paths);
    } catch (err) {
      if (err instanceof PublishError && err.errorClass === 'source_missing') {
        await removeSource(deps, row, undefined);
        return;
      }
      throw err;
    }
    try {
      let verified;
      if (await lstatAt(opened.parent, paths.name)) {
        const snap = await scanTree(opened.parent, paths.name, row.kind, label);
        const digest = await copyTree({ dir: opened.parent, name: paths.name, label }, undefined, snap);
        if (digest.sha256 !== row.checksum_sha256) {
          ctx.onWarning?.(`source ${label} differs from the published product; left in place`);
          return;
        }
        verified = { parent: opened.parent, name: paths.name, identity: snap.entries[0]! };
      }
      await removeSource(deps, row, verified);
    } finally {
      await opened.close();
    }
  } catch (err) {
    ctx.onWarning?.('finishing the source removal failed', err);
  }
}

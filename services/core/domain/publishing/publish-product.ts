import path from 'node:path';
import { LeaseLostError, PublishError } from '../../errors/publish-error';
import { classifyError } from '../../publish/classify-error';
import { copyTree, sameContent, type TreeDigest } from '../../publish/copy-tree';
import { ensureFreeSpace } from '../../publish/free-space';
import { ensureParentDirs, exists, placeNoClobber } from '../../publish/place-product';
import { resolveProductPaths, type ProductPaths } from '../../publish/product-paths';
import { scanTree, snapshotDifference } from '../../publish/scan-source';
import { createLeaseTempDir, removeLeaseTempDir } from '../../publish/temp-area';
import type { ProductRow } from '../../repositories/product.types';
import { claimProduct } from './claim-product';
import { commitPublish } from './commit-publish';
import { extendLease, LeaseKeeper } from './extend-lease';
import { recordFailure } from './record-failure';
import { releaseLease } from './release-lease';
import { removeSource } from './remove-source';
import type { Lease, PublishingDeps } from './publishing.types';

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
}

/** What one publish attempt came to. */
export type PublishResult =
  | { outcome: 'published'; lease: Lease; digest: TreeDigest; durationMs: number; reusedExisting: boolean; reclaimed: boolean }
  | { outcome: 'already_published'; reclaimed: boolean }
  | { outcome: 'skipped'; reason: 'missing' | 'failed' | 'held' | 'inactive'; reclaimed: boolean }
  | { outcome: 'not_due'; until: Date }
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
  try {
    const { digest, reusedExisting, paths } = await copyVerifyPlace(deps, claim.product, lease, abort.signal, (n) => {
      keeper.tick(n);
      ctx.onBytes?.(n);
    }, { pace: ctx.pace, chunkBytes: ctx.chunkBytes?.() });
    await keeper.stop();
    // The (now empty) temp dir goes while the lease is still held: after the commit nothing would
    // remember its token, so a crash between commit and cleanup would orphan it for good.
    await removeLeaseTempDir(deps.config.paths.productsRoot, lease.token).catch((err) => ctx.onWarning?.('temp cleanup failed', err));
    const moveMode = deps.config.publish.mode === 'move';
    const row = await commitPublish(deps, lease, {
      published_path: paths.relative, size_bytes: digest.size, file_count: digest.fileCount,
      checksum_sha256: digest.sha256, manifest: digest.manifest, source_cleanup_pending: moveMode,
    }, Date.now() - started);
    if (moveMode) await removeSource(deps, row, paths.source).catch((err) => ctx.onWarning?.('source removal failed; the reconciler finishes it', err));
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
  }
}

async function copyVerifyPlace(
  deps: PublishingDeps, product: ProductRow, lease: Lease, signal: AbortSignal, onBytes: (n: number) => void,
  limit: { pace?: PublishContext['pace']; chunkBytes?: number },
) {
  const { stageRoot, productsRoot } = deps.config.paths;
  const ctl = { signal, onBytes, pace: limit.pace, chunkBytes: limit.chunkBytes };
  const paths = await resolveProductPaths({ stageRoot, productsRoot }, product.destination_path);
  const before = await scanTree(paths.source, product.kind);

  // A destination already there: same content completes the publish (a crash after the rename),
  // anything else is a conflict and stays untouched.
  if (await exists(paths.final)) {
    const digest = await copyTree(paths.source, undefined, before, { signal, onBytes });
    await assertSameAsExisting(paths, product, digest, signal, onBytes);
    checkExpected(product, digest);
    return { digest, reusedExisting: true, paths };
  }

  await ensureFreeSpace(productsRoot, before.totalSize, deps.config.publish.freeSpaceMarginBytes);
  const tempDir = await createLeaseTempDir(productsRoot, lease.token);
  const tempPath = path.join(tempDir, path.basename(paths.final));
  const digest = await copyTree(paths.source, tempPath, before, ctl);
  const after = await scanTree(paths.source, product.kind, 'io_error').catch((err) => {
    throw err instanceof PublishError ? new PublishError('source_changed', `source changed during the copy: ${err.message}`) : err;
  });
  const why = snapshotDifference(before, after);
  if (why) throw new PublishError('source_changed', `source changed during the copy: ${why}`);
  checkExpected(product, digest);

  // Last check before the product becomes visible: a worker that lost its lease must not place it.
  if (!(await extendLease(deps, lease))) throw new LeaseLostError();
  try {
    await ensureParentDirs(productsRoot, paths.relative);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new PublishError('conflict', `a parent of ${paths.final} is not a directory`);
    throw err;
  }
  if ((await placeNoClobber(tempPath, paths.final, product.kind)) === 'exists') {
    await assertSameAsExisting(paths, product, digest, signal, onBytes);
    return { digest, reusedExisting: true, paths };
  }
  return { digest, reusedExisting: false, paths };
}

function checkExpected(product: ProductRow, digest: TreeDigest): void {
  if (product.expected_sha256 && product.expected_sha256 !== digest.sha256) {
    throw new PublishError('checksum_mismatch', `SHA-256 ${digest.sha256} does not match the expected ${product.expected_sha256}`);
  }
}

async function assertSameAsExisting(paths: ProductPaths, product: ProductRow, digest: TreeDigest, signal: AbortSignal, onBytes: (n: number) => void) {
  let existing: TreeDigest;
  try {
    existing = await copyTree(paths.final, undefined, await scanTree(paths.final, product.kind, 'io_error'), { signal, onBytes });
  } catch (err) {
    if (err instanceof PublishError && (err.errorClass === 'path_invalid' || err.errorClass === 'unsupported_file_type')) {
      throw new PublishError('conflict', `${paths.final} already exists and is not the same ${product.kind}`);
    }
    throw err;
  }
  if (!sameContent(existing, digest)) {
    throw new PublishError('conflict', `${paths.final} already exists with different content; left untouched`);
  }
}

/** A published move-mode product whose source removal was interrupted: finish it if the source is that product. */
async function finishPendingSourceRemoval(deps: PublishingDeps, row: ProductRow, ctx: PublishContext): Promise<void> {
  if (deps.config.publish.mode !== 'move' || !row.source_removal_pending) return;
  try {
    const paths = await resolveProductPaths(deps.config.paths, row.destination_path).catch(() => undefined);
    let source: string | undefined;
    if (paths && (await exists(paths.source))) {
      const digest = await copyTree(paths.source, undefined, await scanTree(paths.source, row.kind));
      if (digest.sha256 !== row.checksum_sha256) {
        ctx.onWarning?.(`source ${paths.source} differs from the published product; left in place`);
        return;
      }
      source = paths.source;
    }
    await removeSource(deps, row, source);
  } catch (err) {
    ctx.onWarning?.('finishing the source removal failed', err);
  }
}

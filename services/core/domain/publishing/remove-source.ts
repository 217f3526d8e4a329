import type { FileHandle } from 'node:fs/promises';
import type { Identity } from '../../publish/dir-handle';
import { sourceTrashName, trashStageEntries, trashStageEntry } from '../../publish/stage-trash';
import { recordSourceRemoved } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { PublishingDeps } from './publishing.types';

/** A source to remove: its name inside a verified directory handle, and the entry it must be. */
export interface VerifiedSource {
  parent: FileHandle;
  name: string;
  identity: Identity;
}

/**
 * Move mode, after the commit: removes the published product's source. It acts on verified
 * handles only: the source's parent is the handle the publish walked to (never a path looked up
 * again), the entry renamed must still be the one scanned (dev, ino), and it goes into
 * STAGE_ROOT/.ferry-tmp (one atomic step, so the stage never shows half a product), opened through
 * the root's handle without following a symlink; then it is deleted handle by handle. So a parent
 * swapped for a symlink (into PRODUCTS_ROOT, say) can make this remove nothing but the source.
 * The row's cleanup marker is cleared last. Run again after a crash it finishes the job and never
 * repeats the publish. `source` undefined means the source is already known to be gone.
 */
export async function removeSource(deps: PublishingDeps, row: ProductRow, source: VerifiedSource | undefined): Promise<void> {
  await removeSourceFiles(deps, row, source);
  await recordSourceRemoved(deps.pool, row.id, { worker: deps.config.instance });
}

/**
 * removeSource without clearing the row's marker: a group removes its products' sources, then
 * clears all their markers in one statement (recordSourceRemoved with their ids).
 */
export async function removeSourceFiles(deps: PublishingDeps, row: ProductRow, source: VerifiedSource | undefined): Promise<void> {
  // Only the entry scanned (its dev, ino) goes: anything else now at the source's name is left alone.
  await trashStageEntry(deps.config.paths.stageRoot, sourceTrashName(row.id), source && { ...source, relative: row.destination_path });
}

/**
 * removeSourceFiles for a group's products at once (one trash handle, each parent fsynced once):
 * each product's error, undefined where its source is gone. Their markers are the caller's.
 */
export async function removeGroupSourceFiles(
  deps: PublishingDeps, sources: ReadonlyArray<{ row: ProductRow; source: VerifiedSource }>,
): Promise<unknown[]> {
  return trashStageEntries(deps.config.paths.stageRoot, sources.map(({ row, source }) => ({
    trashName: sourceTrashName(row.id), entry: { ...source, relative: row.destination_path },
  }))).catch((err: unknown) => sources.map(() => err));
}

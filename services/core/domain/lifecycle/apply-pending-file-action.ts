import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PublishError } from '../../errors/publish-error';
import { at, closeAll, isNotDirectory, lstatAt, openRoot, walkDirs } from '../../publish/dir-handle';
import { syncHandle } from '../../publish/fsync';
import { ensureParentDirs } from '../../publish/place-product';
import { openProductParent, productPaths, type OpenedParent } from '../../publish/product-paths';
import { sourceTrashName, trashStageEntry } from '../../publish/stage-trash';
import { recordDiscardedSourceRemoved, recordRetractionMoved } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { PublishingDeps } from '../publishing/publishing.types';
import { RETRACTION_DIR } from './retract-product';

/** A directory walked to from `root` without following links; undefined when a step is missing, a symlink or not a directory. */
async function walkIfThere(root: FileHandle, parts: readonly string[]): Promise<FileHandle | undefined> {
  try {
    return await walkDirs(root, parts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || isNotDirectory(err)) return undefined;
    throw err;
  }
}

/** Retracted: moves the published entry into PRODUCTS_ROOT/.ferry-retracted/ through handles; returns where it lies (relative). */
async function moveAside(productsRoot: string, row: ProductRow): Promise<string> {
  const published = row.published_path ?? row.destination_path;
  const paths = productPaths(published);
  const retractedParents = [RETRACTION_DIR, ...paths.parents];
  const base = path.posix.join(RETRACTION_DIR, published);
  const products = await openRoot(productsRoot);
  const handles: Array<FileHandle | undefined> = [products];
  try {
    const parent = await walkIfThere(products, paths.parents);
    handles.push(parent);
    if (parent && (await lstatAt(parent, paths.name))) {
      let target: FileHandle;
      try {
        target = await ensureParentDirs(products, retractedParents);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new PublishError('conflict', `a parent of PRODUCTS_ROOT/${base} is not a directory`);
        throw err;
      }
      handles.push(target);
      // Never over an earlier retraction at the same path: that one keeps its place.
      const name = (await lstatAt(target, paths.name)) ? `${paths.name}.${row.id}` : paths.name;
      await fs.rename(at(parent, paths.name), at(target, name));
      await syncHandle(target, `PRODUCTS_ROOT/${base}`);
      await syncHandle(parent, `PRODUCTS_ROOT/${published}`);
      return name === paths.name ? base : `${base}.${row.id}`;
    }
    // Already moved by an earlier run that crashed before recording it.
    const earlier = await walkIfThere(products, retractedParents);
    handles.push(earlier);
    if (earlier && (await lstatAt(earlier, `${paths.name}.${row.id}`))) return `${base}.${row.id}`;
    return base;
  } finally {
    await closeAll(handles);
  }
}

/** Discarded with source removal: the staged source, found through handles walked from STAGE_ROOT, goes to the scratch area and is deleted. */
async function removeDiscardedSource(stageRoot: string, row: ProductRow): Promise<void> {
  const paths = productPaths(row.destination_path);
  let opened: OpenedParent | undefined;
  try {
    opened = await openProductParent(stageRoot, 'STAGE_ROOT', paths);
  } catch (err) {
    // No parent (or a symlink in the way): there is no source of ours to remove.
    if (!(err instanceof PublishError)) throw err;
  }
  try {
    // No scan to check against here: whatever is at the source's name goes.
    await trashStageEntry(stageRoot, sourceTrashName(row.id), opened && { parent: opened.parent, name: paths.name, relative: paths.relative });
  } finally {
    await opened?.close();
  }
}

/**
 * The worker's half of retract and discard, run when it meets such a product with its file work
 * pending (file_action_pending). Retracted: the published entry is renamed (one step, same file
 * system) into PRODUCTS_ROOT/.ferry-retracted/, both parents fsynced, then the path is recorded
 * (event `retraction_moved`); never deleted. Discarded with source removal: the source is renamed
 * into STAGE_ROOT/.ferry-tmp/removed-<id> and deleted, then `source_removed`. Every step goes
 * through directory handles walked from the root without following links, so a path swapped for a
 * symlink cannot redirect it. Run again after a crash it finishes the job: a retraction already
 * moved is only recorded.
 */
export async function applyPendingFileAction(deps: PublishingDeps, row: ProductRow): Promise<void> {
  const { stageRoot, productsRoot } = deps.config.paths;
  if (row.status === 'retracted') {
    const rel = await moveAside(productsRoot, row);
    await recordRetractionMoved(deps.pool, row.id, rel, deps.config.instance);
    return;
  }
  if (row.status === 'discarded') {
    await removeDiscardedSource(stageRoot, row);
    await recordDiscardedSourceRemoved(deps.pool, row.id, deps.config.instance);
  }
}

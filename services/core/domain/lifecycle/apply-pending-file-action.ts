import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from '../../publish/fsync';
import { exists } from '../../publish/place-product';
import { resolveProductPaths } from '../../publish/product-paths';
import { removeTree } from '../../publish/temp-area';
import { recordDiscardedSourceRemoved, recordRetractionMoved } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import { sourceTrashPath } from '../publishing/remove-source';
import type { PublishingDeps } from '../publishing/publishing.types';
import { RETRACTION_DIR } from './retract-product';

/** Where a retracted product goes: PRODUCTS_ROOT/.ferry-retracted/<published path>, or with `.<id>` when that is taken. */
async function retractionTarget(productsRoot: string, row: ProductRow): Promise<string> {
  const rel = path.posix.join(RETRACTION_DIR, row.published_path ?? row.destination_path);
  if (!(await exists(path.join(productsRoot, ...rel.split('/'))))) return rel;
  return `${rel}.${row.id}`;
}

/**
 * The worker's half of retract and discard, run when it meets such a product with its file work
 * pending (file_action_pending). Retracted: the published files are renamed (one step, same file
 * system) into PRODUCTS_ROOT/.ferry-retracted/, both parents fsynced, then the path is recorded
 * (event `retraction_moved`); never deleted. Discarded with source removal: the source is renamed
 * into STAGE_ROOT/.ferry-tmp/removed-<id> and deleted, then `source_removed`. Run again after a
 * crash it finishes the job: a retraction already moved is only recorded.
 */
export async function applyPendingFileAction(deps: PublishingDeps, row: ProductRow): Promise<void> {
  const { stageRoot, productsRoot } = deps.config.paths;
  if (row.status === 'retracted') {
    const published = path.join(productsRoot, ...(row.published_path ?? row.destination_path).split('/'));
    const previous = path.join(productsRoot, ...path.posix.join(RETRACTION_DIR, row.published_path ?? row.destination_path).split('/'));
    let rel: string;
    if (await exists(published)) {
      rel = await retractionTarget(productsRoot, row);
      const target = path.join(productsRoot, ...rel.split('/'));
      await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      await fs.rename(published, target);
      await fsyncPath(path.dirname(target));
      await fsyncPath(path.dirname(published));
    } else if (await exists(`${previous}.${row.id}`)) {
      rel = path.posix.join(RETRACTION_DIR, `${row.published_path ?? row.destination_path}.${row.id}`);
    } else {
      rel = path.posix.join(RETRACTION_DIR, row.published_path ?? row.destination_path);
    }
    await recordRetractionMoved(deps.pool, row.id, rel, deps.config.instance);
    return;
  }
  if (row.status === 'discarded') {
    const paths = await resolveProductPaths(deps.config.paths, row.destination_path).catch(() => undefined);
    const trash = sourceTrashPath(stageRoot, row.id);
    if (paths && (await exists(paths.source))) {
      await fs.mkdir(path.dirname(trash), { recursive: true, mode: 0o700 });
      await removeTree(trash);
      await fs.rename(paths.source, trash);
      await fsyncPath(path.dirname(paths.source));
    }
    await removeTree(trash);
    await recordDiscardedSourceRemoved(deps.pool, row.id, deps.config.instance);
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from '../../publish/fsync';
import { exists } from '../../publish/place-product';
import { removeTree, TEMP_DIR_NAME } from '../../publish/temp-area';
import { recordSourceRemoved } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { PublishingDeps } from './publishing.types';

/** Where a source goes on its way out: STAGE_ROOT/.ferry-tmp/removed-<product id>. */
export function sourceTrashPath(stageRoot: string, productId: number): string {
  return path.join(stageRoot, TEMP_DIR_NAME, `removed-${productId}`);
}

/**
 * Move mode, after the commit: removes the published product's source. The source is first
 * renamed into STAGE_ROOT/.ferry-tmp (one atomic step, so the stage never shows half a product),
 * then deleted; the row's cleanup marker is cleared last. Run again after a crash it finishes the
 * job — a trash left behind is deleted, a source still in place is removed — and never repeats the
 * publish. `sourcePath` undefined means the source is already known to be gone.
 */
export async function removeSource(deps: PublishingDeps, row: ProductRow, sourcePath: string | undefined): Promise<void> {
  const trash = sourceTrashPath(deps.config.paths.stageRoot, row.id);
  if (sourcePath && (await exists(sourcePath))) {
    await fs.mkdir(path.dirname(trash), { recursive: true, mode: 0o700 });
    await removeTree(trash);
    await fs.rename(sourcePath, trash);
    await fsyncPath(path.dirname(sourcePath));
  }
  await removeTree(trash);
  await recordSourceRemoved(deps.pool, row.id, { worker: deps.config.instance });
}

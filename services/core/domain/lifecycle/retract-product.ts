import { recordRetracted } from '../../repositories/product-state';
import type { ProductStatus } from '../../repositories/product.types';
import { enqueueSafely } from '../products/enqueue-safely';
import type { RegistryDeps } from '../registry-deps';
import { changedMeanwhile, refusedInState, runOperatorVerb, type OperatorInput } from './operator-verb';

/** Where retracted products go, relative to PRODUCTS_ROOT; never deleted by Ferry. */
export const RETRACTION_DIR = '.ferry-retracted';

export interface RetractInput extends OperatorInput {
  reason: string;
}

export interface RetractResult {
  data_id: string;
  status: ProductStatus;
  published_path: string | null;
  /** The worker moves the files aside; retracted_path in the product once done. */
  move: 'pending';
}

/**
 * Withdraws a published product (a bad calibration found later): `retracted` at once, with who and
 * why (event `retracted`); a worker then moves its files from the published path into
 * PRODUCTS_ROOT/.ferry-retracted/ (event `retraction_moved` with the path). Nothing is deleted.
 * Anything but a published product is 409. A corrected product is registered under a new data_id
 * naming this one in `supersedes`.
 */
export async function retractProduct(deps: RegistryDeps, input: RetractInput): Promise<RetractResult> {
  const { after } = await runOperatorVerb(deps, input.dataId, async (tx, row) => {
    if (row.status !== 'published') throw refusedInState(row, 'retract', 'published');
    const done = await recordRetracted(tx, row.id, { actor: input.actor, reason: input.reason, detail: { published_path: row.published_path } });
    if (!done) throw changedMeanwhile(input.dataId);
    return done;
  });
  await enqueueSafely(deps, input.dataId);
  return { data_id: input.dataId, status: after!.status, published_path: after!.published_path, move: 'pending' };
}

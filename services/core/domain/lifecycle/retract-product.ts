import { walkLineage } from '../../repositories/lineage.repository';
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

/** Most descendants a retraction lists; more are flagged as truncated (ferryctl lineage --descendants lists all). */
export const RETRACT_DESCENDANTS_LIMIT = 200;
/** How many derivation steps a retraction follows: as deep as GET …/descendants may go. */
const RETRACT_DESCENDANTS_DEPTH = 50;

/** A product derived (directly or not) from the retracted one, which may need retracting too. */
export interface Descendant {
  data_id: string;
  data_type: string;
  status: ProductStatus;
  /** 1 = derived directly from the retracted product. */
  depth: number;
}

export interface RetractResult {
  data_id: string;
  status: ProductStatus;
  published_path: string | null;
  /** The worker moves the files aside; retracted_path in the product once done. */
  move: 'pending';
  /** What was derived from it, nearest first: the operator decides what else to retract. */
  descendants: Descendant[];
  descendants_truncated: boolean;
}

/** The products derived from a retracted one, nearest first, at most RETRACT_DESCENDANTS_LIMIT: what the operator reviews next. */
export async function listDescendantsToReview(deps: Pick<RegistryDeps, 'pool'>, productId: number): Promise<{ descendants: Descendant[]; truncated: boolean }> {
  const found = await walkLineage(deps.pool, productId, 'descendants', RETRACT_DESCENDANTS_DEPTH, RETRACT_DESCENDANTS_LIMIT + 1);
  return {
    descendants: found.slice(0, RETRACT_DESCENDANTS_LIMIT).map(({ data_id, data_type, status, depth }) => ({ data_id, data_type, status, depth })),
    truncated: found.length > RETRACT_DESCENDANTS_LIMIT,
  };
}

/**
 * Withdraws a published product (a bad calibration found later): `retracted` at once, with who and
 * why (event `retracted`); a worker then moves its files from the published path into
 * PRODUCTS_ROOT/.ferry-retracted/ (event `retraction_moved` with the path). Nothing is deleted.
 * Anything but a published product is 409. A corrected product is registered under a new data_id
 * naming this one in `supersedes`. The answer lists the products derived from it (lineage
 * descendants), which Ferry leaves alone: whether they are wrong too is the operator's call.
 */
export async function retractProduct(deps: RegistryDeps, input: RetractInput): Promise<RetractResult> {
  const { after } = await runOperatorVerb(deps, input.dataId, async (tx, row) => {
    if (row.status !== 'published') throw refusedInState(row, 'retract', 'published');
    const done = await recordRetracted(tx, row.id, { actor: input.actor, reason: input.reason, detail: { published_path: row.published_path } });
    if (!done) throw changedMeanwhile(input.dataId);
    return done;
  });
  await enqueueSafely(deps, input.dataId);
  const { descendants, truncated } = await listDescendantsToReview(deps, after!.id);
  return {
    data_id: input.dataId, status: after!.status, published_path: after!.published_path, move: 'pending',
    descendants, descendants_truncated: truncated,
  };
}

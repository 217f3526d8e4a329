import type { Queryable } from '../../db/pool';
import { ConflictError, ValidationError } from '../../errors';
import { findSupersedingDataId, lockProductByDataId } from '../../repositories/product.repository';
import type { ProductStatus } from '../../repositories/product.types';

/** States a product may be superseded in: settled ones, whose outcome a correction replaces. */
export const SUPERSEDABLE_STATUSES: readonly ProductStatus[] = ['published', 'retracted', 'failed', 'discarded'];

/** The 422 for a registration naming its own data_id in `supersedes`. */
export function supersedesItself(dataId: string): ValidationError {
  return new ValidationError('supersedes_self', `${dataId} cannot supersede itself: name the earlier product it corrects`, 422, { supersedes: dataId });
}

/**
 * Checks the product a registration names in `supersedes`, inside the registration's transaction.
 * The named row is locked FOR UPDATE, so two corrections of the same product are serialised and
 * the second is told which one came first. Refusals: naming itself or an unknown product (422),
 * one still in flight or already superseded (409).
 */
export async function checkSupersedes(tx: Queryable, dataId: string, supersedes: string): Promise<void> {
  if (supersedes === dataId) throw supersedesItself(dataId);
  const old = await lockProductByDataId(tx, supersedes);
  if (!old) {
    throw new ValidationError('supersedes_unknown', `supersedes names ${supersedes}, which is not registered: check the data_id`, 422, { supersedes });
  }
  if (!SUPERSEDABLE_STATUSES.includes(old.status)) {
    throw new ConflictError(
      'supersedes_in_progress',
      `${supersedes} is still ${old.status}: a product can be superseded once it is ${SUPERSEDABLE_STATUSES.join(', ')}`,
      { supersedes, status: old.status },
    );
  }
  const newer = await findSupersedingDataId(tx, supersedes);
  if (newer) {
    throw new ConflictError('already_superseded', `${supersedes} is already superseded by ${newer}: name ${newer} instead, if this corrects it`, {
      supersedes, superseded_by: newer,
    });
  }
}

import { withTransaction } from '../../db/transaction';
import type { PoolClient } from 'pg';
import { ConflictError } from '../../errors';
import { lockProductByDataId } from '../../repositories/product.repository';
import type { TransitionedRow } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import { productNotFound } from '../products/get-product';
import type { RegistryDeps } from '../registry-deps';

/** Who runs an operator verb and why: the token name and a free-text reason. */
export interface OperatorInput {
  dataId: string;
  actor: string;
  reason?: string | null;
}

/** How a product stands for the messages: `held` is a staging product waiting for a release. */
export function describeState(p: Pick<ProductRow, 'status' | 'held'>): string {
  return p.status === 'staging' && p.held ? 'held' : p.status;
}

/** The 409 an operator verb answers for a product in a state it does not accept. */
export function refusedInState(p: ProductRow, verb: string, accepts: string): ConflictError {
  const state = describeState(p);
  return new ConflictError('invalid_state', `product ${p.data_id} is ${state}: ${verb} accepts ${accepts} products`, { status: state, verb });
}

/**
 * Runs one operator verb on one product inside a transaction: locks the row, then `apply` decides
 * — it calls one transition of the publishing repository, returns undefined for "already so,
 * nothing to do", or throws a refusal.
 */
export async function runOperatorVerb(
  deps: Pick<RegistryDeps, 'pool'>,
  dataId: string,
  apply: (tx: PoolClient, row: ProductRow) => Promise<TransitionedRow | undefined> | undefined,
): Promise<{ before: ProductRow; after: TransitionedRow | undefined }> {
  return withTransaction(deps.pool, async (tx) => {
    const before = await lockProductByDataId(tx, dataId);
    if (!before) throw productNotFound(dataId);
    const after = await apply(tx, before);
    return { before, after };
  });
}

/** The transition found the locked row in another state than the verb checked: cannot happen while locked. */
export function changedMeanwhile(dataId: string): ConflictError {
  return new ConflictError('invalid_state', `product ${dataId} changed state; try again`);
}

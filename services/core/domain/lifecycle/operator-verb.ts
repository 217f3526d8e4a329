import { withTransaction } from '../../db/transaction';
import { ConflictError } from '../../errors';
import { applyOperatorTransition, type OperatorTransition, type TransitionedRow } from '../../repositories/lifecycle.repository';
import { lockProductByDataId } from '../../repositories/product.repository';
import type { ProductRow } from '../../repositories/product.types';
import { productNotFound } from '../products/get-product';
import type { RegistryDeps } from '../registry-deps';

/** Who runs an operator verb and why: the token name and a free-text reason. */
export interface OperatorInput {
  dataId: string;
  actor: string;
  reason?: string | null;
}

/** How a product stands for the messages: `held` is staging with no due time. */
export function describeState(p: Pick<ProductRow, 'status' | 'next_attempt_at'>): string {
  return p.status === 'staging' && p.next_attempt_at === null ? 'held' : p.status;
}

/** The 409 an operator verb answers for a product in a state it does not accept. */
export function refusedInState(p: ProductRow, verb: string, accepts: string): ConflictError {
  const state = describeState(p);
  return new ConflictError('invalid_state', `product ${p.data_id} is ${state}: ${verb} accepts ${accepts} products`, { status: state, verb });
}

/**
 * Runs one operator transition on one product inside a transaction: locks the row, lets `plan`
 * decide (return a transition, `undefined` for "already so, nothing to do", or throw a refusal),
 * then writes the row and its event through the lifecycle repository.
 */
export async function runOperatorVerb(
  deps: Pick<RegistryDeps, 'pool'>,
  dataId: string,
  plan: (row: ProductRow) => Omit<OperatorTransition, 'id'> | undefined,
): Promise<{ before: ProductRow; after: TransitionedRow | undefined }> {
  return withTransaction(deps.pool, async (tx) => {
    const before = await lockProductByDataId(tx, dataId);
    if (!before) throw productNotFound(dataId);
    const t = plan(before);
    if (!t) return { before, after: undefined };
    const after = await applyOperatorTransition(tx, { ...t, id: before.id });
    // The row is locked, so the guard can only fail if plan() and the accepted states disagree.
    if (!after) throw new ConflictError('invalid_state', `product ${dataId} changed state; try again`);
    return { before, after };
  });
}

import { recordDiscarded, recordHeldDiscarded } from '../../repositories/product-state';
import type { ProductStatus } from '../../repositories/product.types';
import { enqueueSafely } from '../products/enqueue-safely';
import type { RegistryDeps } from '../registry-deps';
import { changedMeanwhile, describeState, refusedInState, runOperatorVerb, type OperatorInput } from './operator-verb';

export interface DiscardInput extends OperatorInput {
  reason: string;
  /** Remove the staged source too (done by a worker, which alone may write the stage); default false: left in place. */
  removeSource?: boolean;
}

export interface DiscardResult {
  data_id: string;
  status: ProductStatus;
  previous_status: string;
  source: 'kept' | 'removal_pending';
}

/**
 * Gives up a failed or held product: `discarded`, kept in the registry with who and why (event
 * `discarded`), left out of the health figures, never claimed again. Its staged source stays unless
 * removeSource asks a worker to remove it (event `source_removed` once done). Anything else is 409.
 */
export async function discardProduct(deps: RegistryDeps, input: DiscardInput): Promise<DiscardResult> {
  const removeSource = input.removeSource ?? false;
  const { before, after } = await runOperatorVerb(deps, input.dataId, async (tx, row) => {
    const state = describeState(row);
    if (state !== 'failed' && state !== 'held') throw refusedInState(row, 'discard', 'failed or held');
    const stamp = { actor: input.actor, reason: input.reason, detail: { remove_source: removeSource } };
    const done = state === 'failed' ? await recordDiscarded(tx, row.id, removeSource, stamp) : await recordHeldDiscarded(tx, row.id, removeSource, stamp);
    if (!done) throw changedMeanwhile(input.dataId);
    return done;
  });
  if (removeSource) await enqueueSafely(deps, input.dataId);
  return { data_id: input.dataId, status: after!.status, previous_status: describeState(before), source: removeSource ? 'removal_pending' : 'kept' };
}

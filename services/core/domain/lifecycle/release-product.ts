import { enqueueSafely } from '../products/enqueue-safely';
import { recordReleased } from '../../repositories/product-state';
import type { RegistryDeps } from '../registry-deps';
import { describeState, refusedInState, runOperatorVerb, type OperatorInput } from './operator-verb';

export interface ReleaseResult {
  data_id: string;
  state: 'waiting';
  /** False when it was not held (already waiting: nothing written). */
  changed: boolean;
}

/**
 * Releases a held product (registered with auto_publish false, or held by an operator): due now,
 * enqueued, event `released`. Already waiting: nothing changes. Anything else: 409.
 */
export async function releaseProduct(deps: RegistryDeps, input: OperatorInput): Promise<ReleaseResult> {
  const { after } = await runOperatorVerb(deps, input.dataId, (tx, row) => {
    const state = describeState(row);
    if (state === 'staging') return undefined;
    if (state !== 'held') throw refusedInState(row, 'release', 'held');
    return recordReleased(tx, row.id, { actor: input.actor, reason: input.reason ?? null });
  });
  if (after) await enqueueSafely(deps, input.dataId);
  return { data_id: input.dataId, state: 'waiting', changed: after !== undefined };
}

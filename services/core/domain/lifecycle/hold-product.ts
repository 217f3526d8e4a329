import { recordHeld } from '../../repositories/product-state';
import type { RegistryDeps } from '../registry-deps';
import { describeState, refusedInState, runOperatorVerb, type OperatorInput } from './operator-verb';

export interface HoldResult {
  data_id: string;
  state: 'held';
  /** False when it was held already (nothing written). */
  changed: boolean;
}

/**
 * Holds a waiting staging product: no worker claims it until it is released (event `held`).
 * Already held: nothing changes. Publishing (a copy is running), published, failed, discarded or
 * retracted: 409.
 */
export async function holdProduct(deps: Pick<RegistryDeps, 'pool'>, input: OperatorInput): Promise<HoldResult> {
  const { after } = await runOperatorVerb(deps, input.dataId, (tx, row) => {
    const state = describeState(row);
    if (state === 'held') return undefined;
    if (row.status !== 'staging') throw refusedInState(row, 'hold', 'waiting staging');
    return recordHeld(tx, row.id, { actor: input.actor, reason: input.reason ?? null });
  });
  return { data_id: input.dataId, state: 'held', changed: after !== undefined };
}

import { ConflictError } from '../../errors';
import { selectProducts } from '../../repositories/lifecycle.repository';
import type { RegistryDeps } from '../registry-deps';
import { discardProduct } from './discard-product';
import { summarise, type BulkItem, type BulkResult, type SelectionInput } from './product-selection';

export interface DiscardProductsInput {
  /** Failed or held products; the rest of the filter as every bulk verb takes it. */
  state: 'failed' | 'held';
  selection: SelectionInput;
  actor: string;
  reason: string;
  removeSource?: boolean;
  dryRun?: boolean;
}

/** Discards the failed (or held) products a selection names, each on its own (see discardProduct); a dry run only lists them. */
export async function discardProducts(deps: RegistryDeps, input: DiscardProductsInput): Promise<BulkResult> {
  const rows = await selectProducts(deps.pool, { ...input.selection, state: input.state });
  const results: BulkItem[] = [];
  for (const r of rows) {
    const item: BulkItem = { data_id: r.data_id, data_type: r.data_type, error_class: r.error_class, attempts: r.publish_attempts, since: r.updated_at, outcome: 'would_do' };
    results.push(item);
    if (input.dryRun) continue;
    try {
      await discardProduct(deps, { dataId: r.data_id, actor: input.actor, reason: input.reason, removeSource: input.removeSource });
      item.outcome = 'done';
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      item.outcome = 'skipped';
      item.message = err.message;
    }
  }
  return summarise('discard', input.dryRun ?? false, results);
}

import { withTransaction } from '../../db/transaction';
import { AppError } from '../../errors';
import { enqueuePublish } from '../../jobs/publish-queue';
import { selectProducts } from '../../repositories/lifecycle.repository';
import { recordRetryRequested } from '../../repositories/product-state';
import type { RegistryDeps } from '../registry-deps';
import { summarise, type BulkItem, type BulkResult, type SelectionInput } from './product-selection';

export interface RetryProductsInput {
  selection: SelectionInput;
  actor: string;
  reason?: string | null;
  dryRun?: boolean;
}

/**
 * Retries the failed products a selection names (error class, data type, failure time, attempts;
 * oldest or newest first), each on its own: `failed` → `staging` with its attempts reset and the
 * event `retry_requested` (old error kept), then enqueued. A product no longer failed when its turn
 * comes is skipped; a Redis refusal leaves it due (the reconciler enqueues it) and answers `error`.
 * A dry run only lists what would be retried.
 */
export async function retryProducts(deps: RegistryDeps, input: RetryProductsInput): Promise<BulkResult> {
  const dryRun = input.dryRun ?? false;
  // Picked and moved in one transaction with SKIP LOCKED: two concurrent calls split the failed set.
  const results = await withTransaction(deps.pool, async (tx) => {
    const rows = await selectProducts(tx, { ...input.selection, state: 'failed', lock: !dryRun });
    const items: BulkItem[] = [];
    for (const r of rows) {
      const item: BulkItem = { data_id: r.data_id, data_type: r.data_type, error_class: r.error_class, attempts: r.publish_attempts, since: r.updated_at, outcome: 'would_do' };
      items.push(item);
      if (dryRun) continue;
      const [done] = await recordRetryRequested(tx, { id: r.id }, { actor: input.actor, reason: input.reason ?? null });
      if (!done) {
        item.outcome = 'skipped';
        item.message = 'no longer failed';
      }
    }
    return items;
  });
  for (const item of results) {
    if (item.outcome !== 'would_do' || dryRun) continue;
    try {
      await enqueuePublish(deps.queue, item.data_id);
      item.outcome = 'done';
    } catch (err) {
      deps.logger.warn('retry could not enqueue; the reconciler will', { data_id: item.data_id, err });
      item.outcome = 'error';
      item.message = err instanceof AppError ? err.message : 'could not enqueue (Redis); the reconciler enqueues it';
    }
  }
  return summarise('retry', dryRun, results);
}

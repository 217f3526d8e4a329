import { recordRetryRequested } from '../../repositories/product-state';
import { enqueuePublish } from '../../jobs/publish-queue';
import type { RegistryDeps } from '../registry-deps';

export interface RetryAllResult {
  total_attempted: number;
  successful: number;
  failed: number;
  results: { data_id: string; success: boolean; error?: string }[];
}

/**
 * Retries up to `limit` failed products, oldest first (by created_at). Claiming them is one
 * guarded UPDATE with FOR UPDATE SKIP LOCKED, so concurrent calls split the failed set and never
 * queue a product twice. A product counts as successful once its job is on the queue; when Redis
 * refuses, the product stays due in staging (the reconciler enqueues it) and counts as failed.
 */
export async function retryAll(deps: RegistryDeps, input: { maxAttempts?: number; limit: number }): Promise<RetryAllResult> {
  const requeued = await recordRetryRequested(deps.pool, { maxAttempts: input.maxAttempts, limit: input.limit });
  const results: RetryAllResult['results'] = [];
  for (const r of requeued) {
    try {
      await enqueuePublish(deps.queue, r.data_id);
      results.push({ data_id: r.data_id, success: true });
    } catch (err) {
      deps.logger.warn('retry-all could not enqueue; the reconciler will', { data_id: r.data_id, err });
      results.push({ data_id: r.data_id, success: false, error: `could not enqueue: ${(err as Error).message}` });
    }
  }
  const successful = results.filter((r) => r.success).length;
  return { total_attempted: results.length, successful, failed: results.length - successful, results };
}

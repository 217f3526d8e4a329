import { enqueueNewProducts, enqueuePublish, type EnqueueOutcome } from '../../jobs/publish-queue';
import type { RegistryDeps } from '../registry-deps';

/**
 * Enqueues a product already committed as due in PostgreSQL. A Redis failure is logged, not thrown:
 * the row is the truth, and the worker's reconciler enqueues every due product the queue lacks.
 */
export async function enqueueSafely(deps: Pick<RegistryDeps, 'queue' | 'logger'>, dataId: string): Promise<EnqueueOutcome | 'deferred'> {
  try {
    return await enqueuePublish(deps.queue, dataId);
  } catch (err) {
    deps.logger.warn('enqueue failed; the reconciler will enqueue the product', { data_id: dataId, err });
    return 'deferred';
  }
}

/** enqueueSafely for many products registered in one transaction: one Redis round trip, a failure logged. */
export async function enqueueManySafely(deps: Pick<RegistryDeps, 'queue' | 'logger'>, dataIds: readonly string[]): Promise<void> {
  try {
    await enqueueNewProducts(deps.queue, dataIds);
  } catch (err) {
    deps.logger.warn('enqueue failed; the reconciler will enqueue the products', { count: dataIds.length, data_id: dataIds[0], err });
  }
}

import { withTransaction } from '../../db/transaction';
import { ConflictError } from '../../errors';
import type { EnqueueOutcome } from '../../jobs/publish-queue';
import { lockProductByDataId } from '../../repositories/product.repository';
import { recordPublishRequested } from '../../repositories/product-state';
import type { ProductStatus } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';
import { enqueueSafely } from './enqueue-safely';
import { productNotFound } from './get-product';

export interface PublishRequestResult {
  data_id: string;
  status: ProductStatus;
  /** added, already_queued, retried (a failed job in BullMQ retried), or deferred (Redis unreachable; the reconciler will enqueue). */
  enqueue: EnqueueOutcome | 'deferred';
}

/**
 * Asks for a product in `staging` or `publishing` to be published: makes a held product
 * (registered with auto_publish false) due and enqueues it; idempotent. A published product is a
 * 409 already_published; a failed one is a 409 product_failed (an operator retries it).
 */
export async function requestPublish(deps: RegistryDeps, dataId: string): Promise<PublishRequestResult> {
  const status = await withTransaction(deps.pool, async (tx) => {
    const product = await lockProductByDataId(tx, dataId);
    if (!product) throw productNotFound(dataId);
    if (product.status === 'published') {
      throw new ConflictError('already_published', `product ${dataId} is already published at ${product.published_path}`);
    }
    if (product.status === 'failed') {
      throw new ConflictError(
        'product_failed',
        `product ${dataId} failed (${product.publish_error ?? 'no error recorded'}): an admin retries it with POST /api/monitoring/publish/retry/${dataId}`,
      );
    }
    if (product.status === 'discarded' || product.status === 'retracted') {
      throw new ConflictError('invalid_state', `product ${dataId} is ${product.status}: it is never published again`, { status: product.status });
    }
    await recordPublishRequested(tx, product.id);
    return product.status;
  });
  return { data_id: dataId, status, enqueue: await enqueueSafely(deps, dataId) };
}

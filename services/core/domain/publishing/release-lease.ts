import { withTransaction } from '../../db/transaction';
import { appendEvent } from '../../repositories/event.repository';
import { endLease, lockLeasedProduct } from '../../repositories/lease.repository';
import type { Lease, PublishingDeps } from './publishing.types';

/**
 * Gives a product back on shutdown: `staging`, due now, so another worker takes it at once. The
 * attempt is refunded — a deploy is not the product's fault and must not push it towards `failed`.
 * Returns false when the lease was already lost.
 */
export async function releaseLease(deps: PublishingDeps, lease: Lease, reason: string): Promise<boolean> {
  return withTransaction(deps.pool, async (tx) => {
    const row = await lockLeasedProduct(tx, lease.productId, lease.token);
    if (!row) return false;
    await endLease(tx, row.id, { status: 'staging', nextAttemptAt: new Date(), error: null, errorClass: null, refundAttempt: true });
    await appendEvent(tx, {
      product_id: row.id, data_id: row.data_id, event: 'lease_released', attempt: row.publish_attempts, from_status: 'publishing',
      to_status: 'staging', error_class: 'shutdown', error: reason, worker: deps.config.instance,
    });
    return true;
  });
}

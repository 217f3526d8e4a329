import { recordLeaseReleased } from '../../repositories/product-state';
import type { Lease, PublishingDeps } from './publishing.types';

/**
 * Gives a product back on shutdown: `staging`, due now, so another worker takes it at once. The
 * attempt is refunded — a deploy is not the product's fault and must not push it towards `failed`.
 * Returns false when the lease was already lost.
 */
export async function releaseLease(deps: PublishingDeps, lease: Lease, reason: string): Promise<boolean> {
  const row = await recordLeaseReleased(deps.pool, lease.productId, lease.token, { error: reason, worker: deps.config.instance });
  return row !== undefined;
}

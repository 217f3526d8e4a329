import type { Queryable } from '../../db/pool';
import { recordFailed, recordLeaseReclaimed } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { PublishingDeps } from './publishing.types';

/**
 * Takes back a dead or stalled worker's lease, if it has expired by `now` (the repository's one
 * expiry rule decides): the row returns to `staging`, due now (`lease_reclaimed`), or — when every
 * attempt so far died with its worker (PUBLISH_MAX_ATTEMPTS used) — goes to `failed`
 * (lease_expired) rather than kill another one. undefined when the lease has not expired or the
 * row no longer holds it. Claims and the reconciler's sweep both end expired leases here.
 */
export function endExpiredLease(deps: PublishingDeps, db: Queryable, row: ProductRow, now: Date): Promise<ProductRow | undefined> {
  if (row.status !== 'publishing' || !row.lease_token) return Promise.resolve(undefined);
  const end = { error: `lease of ${row.lease_owner ?? 'unknown worker'} expired`, worker: deps.config.instance };
  if (row.publish_attempts >= deps.config.publish.maxAttempts) {
    return recordFailed(db, row.id, row.lease_token, { ...end, errorClass: 'lease_expired', expiredBy: now });
  }
  return recordLeaseReclaimed(db, row.id, row.lease_token, now, end);
}

import crypto from 'node:crypto';
import { withTransaction } from '../../db/transaction';
import { appendEvent } from '../../repositories/event.repository';
import { claimDueProduct, endLease, startLease } from '../../repositories/lease.repository';
import { lockProductByDataId } from '../../repositories/product.repository';
import type { ProductRow } from '../../repositories/product.types';
import type { PublishingDeps } from './publishing.types';

/** What a claim found. Only `claimed` lets the caller move bytes. */
export type ClaimResult =
  | { outcome: 'claimed'; product: ProductRow; token: string; reclaimedToken?: string }
  | { outcome: 'published'; product: ProductRow }
  | { outcome: 'failed'; product: ProductRow; reclaimedToken?: string }
  | { outcome: 'not_due'; product: ProductRow; until: Date }
  | { outcome: 'held'; product: ProductRow }
  | { outcome: 'inactive'; product: ProductRow }
  | { outcome: 'missing' };

/**
 * Claims a product for publishing in one short transaction: SELECT … FOR UPDATE, then `publishing`
 * with a fresh lease token and expiry, the attempt counted, and a `claimed` event. No lock is held
 * after it returns. A row still leased by someone else is `not_due` until its lease expires; an
 * expired lease is taken over (`lease_reclaimed` event) and its token returned so the caller can
 * remove the dead worker's temporary copy.
 */
export async function claimProduct(deps: PublishingDeps, dataId: string, now = new Date()): Promise<ClaimResult> {
  // Nearly every claim is a due `staging` row: one statement. Everything else takes the locking path.
  const fastToken = crypto.randomUUID();
  const fast = await claimDueProduct(deps.pool, dataId, fastToken, deps.config.instance, deps.config.publish.leaseSeconds, now);
  if (fast) return { outcome: 'claimed', product: fast, token: fastToken };
  return withTransaction(deps.pool, async (tx) => {
    const row = await lockProductByDataId(tx, dataId);
    if (!row) return { outcome: 'missing' };
    if (row.status === 'published') return { outcome: 'published', product: row };
    if (row.status === 'failed') return { outcome: 'failed', product: row };
    // Discarded and retracted products are never published again (their file work is the caller's).
    if (row.status === 'discarded' || row.status === 'retracted') return { outcome: 'inactive', product: row };
    let reclaimedToken: string | undefined;
    if (row.status === 'publishing' && row.lease_token) {
      const expires = row.lease_expires_at!;
      if (expires.getTime() > now.getTime()) return { outcome: 'not_due', product: row, until: expires };
      reclaimedToken = row.lease_token;
      const error = `lease of ${row.lease_owner ?? 'unknown worker'} expired`;
      if (row.publish_attempts >= deps.config.publish.maxAttempts) {
        // Every attempt so far died with its worker: stop here rather than kill another one.
        const failed = await endLease(tx, row.id, { status: 'failed', nextAttemptAt: null, error, errorClass: 'lease_expired' });
        await appendEvent(tx, {
          product_id: row.id, data_id: row.data_id, event: 'failed', attempt: row.publish_attempts, from_status: 'publishing',
          to_status: 'failed', error_class: 'lease_expired', error, worker: deps.config.instance,
        });
        return { outcome: 'failed', product: failed, reclaimedToken };
      }
      await appendEvent(tx, {
        product_id: row.id, data_id: row.data_id, event: 'lease_reclaimed', attempt: row.publish_attempts,
        from_status: 'publishing', to_status: 'staging', error_class: 'lease_expired', error, worker: deps.config.instance,
      });
    } else if (row.status === 'staging') {
      // Registered with auto_publish false: nothing happens until someone asks for the publish.
      if (row.next_attempt_at === null) return { outcome: 'held', product: row };
      if (row.next_attempt_at.getTime() > now.getTime()) return { outcome: 'not_due', product: row, until: row.next_attempt_at };
    }
    const token = crypto.randomUUID();
    const claimed = await startLease(tx, row.id, token, deps.config.instance, deps.config.publish.leaseSeconds);
    await appendEvent(tx, {
      product_id: row.id, data_id: row.data_id, event: 'claimed', attempt: claimed.publish_attempts,
      from_status: reclaimedToken ? 'staging' : row.status, to_status: 'publishing', worker: deps.config.instance,
    });
    return { outcome: 'claimed', product: claimed, token, reclaimedToken };
  });
}

import crypto from 'node:crypto';
import { withTransaction } from '../../db/transaction';
import { lockProductByDataId } from '../../repositories/product.repository';
import { recordClaimed } from '../../repositories/product-state';
import { isPausedFor } from '../../repositories/publishing-control.repository';
import type { ProductRow } from '../../repositories/product.types';
import { endExpiredLease } from './end-expired-lease';
import type { PublishingDeps } from './publishing.types';

/**
 * How soon a job that met a row leased by someone else looks again, at most. A group leases its
 * members while their own jobs may already be running; those jobs must not sit in the queue for a
 * whole lease (a minute by default) after the group published them in a second or two.
 */
export const LEASED_RECHECK_MS = 2000;

/** What a claim found. Only `claimed` lets the caller move bytes. */
export type ClaimResult =
  | { outcome: 'claimed'; product: ProductRow; token: string; reclaimedToken?: string }
  | { outcome: 'published'; product: ProductRow }
  | { outcome: 'failed'; product: ProductRow; reclaimedToken?: string }
  | { outcome: 'not_due'; product: ProductRow; until: Date }
  | { outcome: 'held'; product: ProductRow }
  | { outcome: 'inactive'; product: ProductRow }
  | { outcome: 'paused'; product: ProductRow; reclaimedToken?: string }
  | { outcome: 'missing' };

/**
 * Claims a product for publishing in one short transaction: SELECT … FOR UPDATE, then `publishing`
 * with a fresh lease token and expiry, the attempt counted, and a `claimed` event. No lock is held
 * after it returns. A row still leased by someone else is `not_due` until its lease expires, or
 * LEASED_RECHECK_MS if that is sooner (its holder may finish long before the expiry); an
 * expired lease is taken over (`lease_reclaimed` event) and its token returned so the caller can
 * remove the dead worker's temporary copy. A pause of the service or the product's data type is
 * checked by the claiming statement itself (`paused`), so no claim starts after a pause committed.
 */
export async function claimProduct(deps: PublishingDeps, dataId: string, now = new Date()): Promise<ClaimResult> {
  const lease = () => ({ token: crypto.randomUUID(), owner: deps.config.instance, seconds: deps.config.publish.leaseSeconds });
  // Nearly every claim is a due `staging` row: one statement. Everything else takes the locking path.
  const fastLease = lease();
  const fast = await recordClaimed(deps.pool, { dataId, dueBy: now }, fastLease);
  if (fast) return { outcome: 'claimed', product: fast, token: fastLease.token };
  return withTransaction(deps.pool, async (tx) => {
    const row = await lockProductByDataId(tx, dataId);
    if (!row) return { outcome: 'missing' };
    if (row.status === 'published') return { outcome: 'published', product: row };
    if (row.status === 'failed') return { outcome: 'failed', product: row };
    // Discarded and retracted products are never published again (their file work is the caller's).
    if (row.status === 'discarded' || row.status === 'retracted') return { outcome: 'inactive', product: row };
    let reclaimedToken: string | undefined;
    if (row.status === 'publishing') {
      const ended = await endExpiredLease(deps, tx, row, now);
      if (!ended) {
        const recheck = new Date(now.getTime() + LEASED_RECHECK_MS);
        return { outcome: 'not_due', product: row, until: row.lease_expires_at! < recheck ? row.lease_expires_at! : recheck };
      }
      reclaimedToken = row.lease_token!;
      if (ended.status === 'failed') return { outcome: 'failed', product: ended, reclaimedToken };
    } else {
      // Registered with auto_publish false: nothing happens until someone asks for the publish.
      if (row.held) return { outcome: 'held', product: row };
      if (row.due_at && row.due_at.getTime() > now.getTime()) return { outcome: 'not_due', product: row, until: row.due_at };
    }
    const next = lease();
    const claimed = await recordClaimed(tx, { id: row.id }, next);
    if (!claimed) {
      // The row is locked in staging, so only a pause can have stopped the claim.
      if (await isPausedFor(tx, dataId)) return { outcome: 'paused', product: row, reclaimedToken };
      throw new Error(`product ${dataId} left staging while locked`);
    }
    return { outcome: 'claimed', product: claimed, token: next.token, reclaimedToken };
  });
}

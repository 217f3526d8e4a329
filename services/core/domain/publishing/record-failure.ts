import { withTransaction } from '../../db/transaction';
import type { PublishError } from '../../errors/publish-error';
import { lockLeasedProduct } from '../../repositories/lease.repository';
import { recordFailed, recordRetryScheduled } from '../../repositories/product-state';
import { backoffMs } from './backoff';
import type { Lease, PublishingDeps } from './publishing.types';

/** What became of a failed attempt. */
export type FailureOutcome =
  | { outcome: 'retry'; nextAttemptAt: Date; delayMs: number }
  | { outcome: 'failed' }
  | { outcome: 'lease_lost' };

/**
 * Records a failed attempt under the lease: a permanent failure, or a retryable one that used the
 * last of PUBLISH_MAX_ATTEMPTS, goes to `failed` (terminal until an operator retries); any other
 * goes back to `staging` due after exponential backoff with jitter. One event either way, with the
 * error class. A worker that lost its lease records nothing: the row belongs to someone else.
 */
export async function recordFailure(deps: PublishingDeps, lease: Lease, error: PublishError, random: () => number = Math.random): Promise<FailureOutcome> {
  return withTransaction(deps.pool, async (tx) => {
    const row = await lockLeasedProduct(tx, lease.productId, lease.token);
    if (!row) return { outcome: 'lease_lost' as const };
    const { maxAttempts, backoffBaseSeconds, backoffMaxSeconds } = deps.config.publish;
    const final = !error.retryable || row.publish_attempts >= maxAttempts;
    const message = final && error.retryable ? `${error.message} (gave up after ${row.publish_attempts} attempts)` : error.message;
    const failure = { error: message, errorClass: error.errorClass, worker: deps.config.instance };
    if (final) {
      await recordFailed(tx, row.id, lease.token, failure);
      return { outcome: 'failed' as const };
    }
    const delayMs = backoffMs(row.publish_attempts, backoffBaseSeconds, backoffMaxSeconds, random);
    const nextAttemptAt = new Date(Date.now() + delayMs);
    await recordRetryScheduled(tx, row.id, lease.token, nextAttemptAt, failure);
    return { outcome: 'retry' as const, nextAttemptAt, delayMs };
  });
}

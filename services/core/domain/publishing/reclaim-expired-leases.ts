import { withTransaction } from '../../db/transaction';
import { removeLeaseTempDir } from '../../publish/temp-area';
import { appendEvent } from '../../repositories/event.repository';
import { endLease, lockExpiredLeases } from '../../repositories/lease.repository';
import type { PublishingDeps } from './publishing.types';

/** A lease taken back from a dead or stalled worker. */
export interface ReclaimedLease {
  dataId: string;
  token: string;
  owner: string | null;
}

/**
 * Takes back every expired lease (a killed worker never ends its own): the row returns to
 * `staging`, due now, with a `lease_reclaimed` event; after the commit the dead worker's temporary
 * copy is removed. The attempt stays counted: a product whose every attempt kills its worker ends
 * in `failed` (lease_expired) once PUBLISH_MAX_ATTEMPTS are used. Batched and SKIP LOCKED, so
 * sweepers on several workers share the work.
 */
export async function reclaimExpiredLeases(deps: PublishingDeps, batch = 100): Promise<ReclaimedLease[]> {
  const all: ReclaimedLease[] = [];
  for (;;) {
    const reclaimed = await withTransaction(deps.pool, async (tx) => {
      const rows = await lockExpiredLeases(tx, batch);
      const out: ReclaimedLease[] = [];
      for (const row of rows) {
        const error = `lease of ${row.lease_owner ?? 'unknown worker'} expired`;
        const exhausted = row.publish_attempts >= deps.config.publish.maxAttempts;
        const status = exhausted ? 'failed' : 'staging';
        await endLease(tx, row.id, { status, nextAttemptAt: exhausted ? null : new Date(), error, errorClass: 'lease_expired' });
        await appendEvent(tx, {
          product_id: row.id, data_id: row.data_id, event: exhausted ? 'failed' : 'lease_reclaimed', attempt: row.publish_attempts,
          from_status: 'publishing', to_status: status, error_class: 'lease_expired', error, worker: deps.config.instance,
        });
        out.push({ dataId: row.data_id, token: row.lease_token!, owner: row.lease_owner });
      }
      return out;
    });
    for (const r of reclaimed) await removeLeaseTempDir(deps.config.paths.productsRoot, r.token);
    all.push(...reclaimed);
    if (reclaimed.length < batch) return all;
  }
}

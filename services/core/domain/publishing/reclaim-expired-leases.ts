import { withTransaction } from '../../db/transaction';
import { removeLeaseTempDir } from '../../publish/temp-area';
import { lockExpiredLeases } from '../../repositories/product-state';
import { endExpiredLease } from './end-expired-lease';
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
      const now = new Date();
      const rows = await lockExpiredLeases(tx, now, batch);
      const out: ReclaimedLease[] = [];
      for (const row of rows) {
        if (await endExpiredLease(deps, tx, row, now)) out.push({ dataId: row.data_id, token: row.lease_token!, owner: row.lease_owner });
      }
      return { out, full: rows.length === batch };
    });
    for (const r of reclaimed.out) await removeLeaseTempDir(deps.config.paths.productsRoot, r.token);
    all.push(...reclaimed.out);
    if (!reclaimed.full) return all;
  }
}

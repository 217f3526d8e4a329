import type { Queue } from 'bullmq';
import type { Pool } from 'pg';
import { missingPublishJobs } from '../../jobs/missing-publish-jobs';
import { enqueuePublish, type PublishJobData } from '../../jobs/publish-queue';
import { listDueProducts, listPendingSourceCleanups } from '../../repositories/lease.repository';

/** What the reconciler needs: the registry and the queue. */
export interface RequeueDeps {
  pool: Pool;
  queue: Queue<PublishJobData>;
}

/**
 * Re-enqueues every product PostgreSQL says is due (staging or publishing past next_attempt_at)
 * whose job the queue does not hold — after a Redis flush or restart, or a lost job. Walks the due
 * index in keyset pages of `batch`; per page one pipelined round trip asks Redis whether each
 * job hash exists and whether it sits in the failed set; only the missing or failed ones are
 * (re)enqueued. Cheap at a million rows: nothing due, nothing read beyond the index.
 */
export async function requeueDueProducts(deps: RequeueDeps, batch = 1000): Promise<number> {
  let requeued = 0;
  let after: { at: Date; id: number } | undefined;
  for (;;) {
    const rows = await listDueProducts(deps.pool, after, batch);
    if (rows.length === 0) return requeued;
    for (const dataId of await missingPublishJobs(deps.queue, rows.map((r) => r.data_id))) {
      if ((await enqueuePublish(deps.queue, dataId)) !== 'already_queued') requeued++;
    }
    const last = rows[rows.length - 1]!;
    after = { at: last.next_attempt_at, id: last.id };
    if (rows.length < batch) return requeued;
  }
}

/** Enqueues published move-mode products whose source removal was interrupted, so a worker finishes it. */
export async function requeuePendingSourceRemovals(deps: RequeueDeps, olderThanSeconds: number, batch = 1000): Promise<number> {
  const rows = await listPendingSourceCleanups(deps.pool, olderThanSeconds, batch);
  let n = 0;
  for (const r of rows) if ((await enqueuePublish(deps.queue, r.data_id)) !== 'already_queued') n++;
  return n;
}

import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { enqueuePublish, publishJobId, type PublishJobData } from '../../jobs/publish-queue';
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
  // BullMQ types its client generically; with an ioredis connection it is an ioredis client.
  const redis = (await deps.queue.client) as unknown as Redis;
  const failedKey = deps.queue.toKey('failed');
  let requeued = 0;
  let after: { at: Date; id: number } | undefined;
  for (;;) {
    const rows = await listDueProducts(deps.pool, after, batch);
    if (rows.length === 0) return requeued;
    const pipe = redis.pipeline();
    for (const r of rows) {
      const id = publishJobId(r.data_id);
      pipe.exists(deps.queue.toKey(id));
      pipe.zscore(failedKey, id);
    }
    const replies = (await pipe.exec()) ?? [];
    for (let i = 0; i < rows.length; i++) {
      const present = Number(replies[2 * i]?.[1] ?? 0) === 1;
      const failed = replies[2 * i + 1]?.[1] !== null && replies[2 * i + 1]?.[1] !== undefined;
      if (present && !failed) continue;
      const outcome = await enqueuePublish(deps.queue, rows[i]!.data_id);
      if (outcome !== 'already_queued') requeued++;
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

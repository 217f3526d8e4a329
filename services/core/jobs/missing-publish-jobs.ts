import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { publishJobId, type PublishJobData } from './publish-queue';

/**
 * For each product, whether its job hash exists and (with `failed`) whether the job sits in the
 * failed set, asked in one pipelined Redis round trip rather than one call per product. This reads
 * BullMQ's key layout, so it lives here, beside the queue factory.
 */
async function jobStates(queue: Queue<PublishJobData>, dataIds: readonly string[], failed: boolean): Promise<Array<{ present: boolean; failed: boolean }>> {
  if (dataIds.length === 0) return [];
  // BullMQ types its client generically; with an ioredis connection it is an ioredis client.
  const redis = (await queue.client) as unknown as Redis;
  const failedKey = queue.toKey('failed');
  const pipe = redis.pipeline();
  for (const dataId of dataIds) {
    const id = publishJobId(dataId);
    pipe.exists(queue.toKey(id));
    if (failed) pipe.zscore(failedKey, id);
  }
  const replies = (await pipe.exec()) ?? [];
  const per = failed ? 2 : 1;
  return dataIds.map((_, i) => ({
    present: Number(replies[per * i]?.[1] ?? 0) === 1,
    failed: failed && replies[per * i + 1]?.[1] !== null && replies[per * i + 1]?.[1] !== undefined,
  }));
}

/** Which of these products have no live job on the queue: no job hash, or a job in the failed set. */
export async function missingPublishJobs(queue: Queue<PublishJobData>, dataIds: readonly string[]): Promise<string[]> {
  const states = await jobStates(queue, dataIds, true);
  return dataIds.filter((_, i) => !states[i]!.present || states[i]!.failed);
}

/** Which of these products have a job on the queue, in any state (one EXISTS each: a group's members, on the publishing path). */
export async function queuedPublishJobs(queue: Queue<PublishJobData>, dataIds: readonly string[]): Promise<string[]> {
  const states = await jobStates(queue, dataIds, false);
  return dataIds.filter((_, i) => states[i]!.present);
}

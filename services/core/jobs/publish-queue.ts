import { Queue, type ConnectionOptions } from 'bullmq';

/** The one queue Ferry uses; Redis only dispatches, PostgreSQL decides. */
export const PUBLISH_QUEUE = 'publish';
/** The one job name on it. */
export const PUBLISH_JOB = 'publish-product';

/** What a publish job carries: only the key; everything else is read from PostgreSQL. */
export interface PublishJobData {
  data_id: string;
}

/** Job id derived from data_id, so a product sits in the queue at most once. */
export function publishJobId(dataId: string): string {
  return `publish-${dataId}`;
}

export function createPublishQueue(connection: ConnectionOptions, prefix: string): Queue<PublishJobData> {
  return new Queue<PublishJobData>(PUBLISH_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: { count: 10000 } },
  });
}

export type EnqueueOutcome = 'added' | 'already_queued' | 'retried';

/**
 * Puts a product's job on the queue unless it is there already. A job left in the failed set is
 * retried in place; a finished one is replaced. Safe to call any number of times.
 */
export async function enqueuePublish(queue: Queue<PublishJobData>, dataId: string, delayMs = 0): Promise<EnqueueOutcome> {
  const jobId = publishJobId(dataId);
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state === 'failed') {
      await existing.retry('failed');
      return 'retried';
    }
    if (state !== 'completed' && state !== 'unknown') return 'already_queued';
    await existing.remove().catch(() => undefined);
  }
  await queue.add(PUBLISH_JOB, { data_id: dataId }, { jobId, delay: delayMs > 0 ? delayMs : undefined });
  return 'added';
}

/**
 * Puts jobs for products just registered on the queue in one round trip. A job id already present
 * is left as it is (BullMQ skips it), which is right for rows that did not exist a moment ago.
 */
export async function enqueueNewProducts(queue: Queue<PublishJobData>, dataIds: readonly string[]): Promise<void> {
  if (dataIds.length === 0) return;
  await queue.addBulk(dataIds.map((dataId) => ({ name: PUBLISH_JOB, data: { data_id: dataId }, opts: { jobId: publishJobId(dataId) } })));
}

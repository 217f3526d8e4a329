import IORedis from 'ioredis';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../../../test/support/redis';
import { missingPublishJobs, queuedPublishJobs } from './missing-publish-jobs';
import { createPublishQueue, enqueuePublish, publishJobId } from './publish-queue';

describe('missingPublishJobs and queuedPublishJobs against real Redis', () => {
  const prefix = testRedisPrefix();
  const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createPublishQueue(redis, prefix);
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('names the products whose job is absent or in the failed set, and only those', async () => {
    expect(await missingPublishJobs(queue, [])).toEqual([]);
    await enqueuePublish(queue, 'waiting');
    await enqueuePublish(queue, 'failed');
    const job = (await queue.getJob(publishJobId('failed')))!;
    // Put the job in the failed set the way a worker would, without running one.
    await redis.zadd(queue.toKey('failed'), Date.now(), job.id!);
    expect(await missingPublishJobs(queue, ['waiting', 'failed', 'absent'])).toEqual(['failed', 'absent']);
  });

  it('names the products that have a job, in any state, and only those', async () => {
    expect(await queuedPublishJobs(queue, [])).toEqual([]);
    await enqueuePublish(queue, 'q-waiting');
    await enqueuePublish(queue, 'q-delayed', 60000);
    await enqueuePublish(queue, 'q-failed');
    await redis.zadd(queue.toKey('failed'), Date.now(), publishJobId('q-failed'));
    expect(await queuedPublishJobs(queue, ['q-none', 'q-waiting', 'q-delayed', 'q-failed'])).toEqual(['q-waiting', 'q-delayed', 'q-failed']);
  });
});

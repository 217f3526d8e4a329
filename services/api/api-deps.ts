import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Config } from '../core/config';
import { createPool } from '../core/db/pool';
import { createPublishQueue, type PublishJobData } from '../core/jobs/publish-queue';
import type { Logger } from '../core/logging/create-logger';
import { createMetrics, type Metrics } from '../core/metrics/create-metrics';
import { createCpuSampler } from '../core/system/system-stats';

/** Everything createApp() needs; main.ts and test/support/api.ts build it the same way. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  pool: Pool;
  redis: Redis;
  queue: Queue<PublishJobData>;
  metrics: Metrics;
  /** Host CPU sampler for the health and system-metrics endpoints. */
  cpu: () => Promise<number>;
}

/**
 * Opens the api's connections: the PostgreSQL pool, one Redis connection (shared by the queue,
 * the rate limiter and the status endpoint), the publish queue and the metrics registry.
 * Redis commands fail after one reconnect attempt instead of hanging a request while Redis is down.
 * Commands are auto-pipelined: those issued in one turn of the event loop, or while a pipeline is
 * out, are sent together, so concurrent requests' rate-limit counts cost Redis and the api one
 * write between them instead of one each (docs/performance.md, ninth pass).
 */
export function createApiDeps(config: Config, logger: Logger): ApiDeps {
  const pool = createPool(config, (err) => logger.warn('idle PostgreSQL client failed', { err }));
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, lazyConnect: false, enableAutoPipelining: true });
  redis.on('error', (err) => logger.debug('redis connection error', { err }));
  const queue = createPublishQueue(redis, config.redis.prefix);
  queue.on('error', (err) => logger.debug('publish queue error', { err }));
  return { config, logger, pool, redis, queue, metrics: createMetrics('api', config.version), cpu: createCpuSampler() };
}

/** Closes what createApiDeps opened, each step guarded so one failure does not skip the rest. */
export async function closeApiDeps(deps: Pick<ApiDeps, 'pool' | 'redis' | 'queue'>): Promise<void> {
  await deps.queue.close().catch(() => undefined);
  deps.redis.disconnect();
  await deps.pool.end().catch(() => undefined);
}

import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Config } from '../../core/config';

/** What the health endpoints look at. */
export interface HealthDeps {
  config: Pick<Config, 'paths' | 'version' | 'instance' | 'database'>;
  pool: Pool;
  redis: Pick<Redis, 'ping' | 'info'>;
  queue: Pick<Queue, 'getJobCounts'> | undefined;
  /** Host CPU sampler (services/core/system/system-stats.ts createCpuSampler()). */
  cpu: () => Promise<number>;
  /** The authenticate middleware, for the admin-only detailed report. */
  authenticate: RequestHandler;
}

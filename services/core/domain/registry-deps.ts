import type { Queue } from 'bullmq';
import type { Pool } from 'pg';
import type { Config } from '../config';
import type { PublishJobData } from '../jobs/publish-queue';
import type { Logger } from '../logging/create-logger';

/** What the registry operations (domain/products, domain/monitoring) need from the process. */
export interface RegistryDeps {
  pool: Pool;
  queue: Queue<PublishJobData>;
  config: Pick<Config, 'paths' | 'products' | 'publish' | 'redis'>;
  logger: Logger;
}

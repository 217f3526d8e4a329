import fs from 'node:fs/promises';
import path from 'node:path';
import type Redis from 'ioredis';
import type { Config } from '../core/config';
import { ConfigError } from '../core/errors';
import type { Logger } from '../core/logging/create-logger';

/** The file deploy/up.sh writes at the top of each data root: proves the bind mount is there. */
export const DATA_ROOT_MARKER = '.ferry-data-root';

/** Refuses to start when REQUIRE_DATA_ROOT_MARKER is true and a data root lacks its marker. */
export async function checkDataRootMarkers(paths: Config['paths']): Promise<void> {
  if (!paths.requireMarker) return;
  const problems: string[] = [];
  for (const [name, root] of [['STAGE_ROOT', paths.stageRoot], ['PRODUCTS_ROOT', paths.productsRoot]] as const) {
    try {
      await fs.access(path.join(root, DATA_ROOT_MARKER));
    } catch {
      problems.push(`${name}: ${path.join(root, DATA_ROOT_MARKER)} is missing; is the data volume mounted?`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
}

/** Logs an error when Redis may evict keys: BullMQ jobs must never disappear under memory pressure. */
export async function checkRedisEvictionPolicy(redis: Redis, logger: Logger): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      logger.error('Redis maxmemory-policy must be noeviction; queued jobs may be evicted', { maxmemory_policy: policy });
    }
    return policy;
  } catch (err) {
    logger.error('cannot read Redis maxmemory-policy (CONFIG GET refused?); make sure it is noeviction', { err });
    return undefined;
  }
}

/** Fails start-up when a job name the queue carries has no processor. */
export function assertProcessorsFor(jobNames: readonly string[], processors: Readonly<Record<string, unknown>>): void {
  const missing = jobNames.filter((n) => typeof processors[n] !== 'function');
  if (missing.length) throw new ConfigError(missing.map((n) => `job name ${n} has no processor`));
}

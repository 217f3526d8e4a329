import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import type { PublishJobData } from '../../jobs/publish-queue';
import { oldestStaged, publishesPerHour } from '../../repositories/product-search.repository';
import type { PauseRow } from '../../repositories/publishing-control.repository';
import type { ProductStatus } from '../../repositories/product.types';
import { countByStatus } from '../../repositories/registry-stats.repository';
import { getServiceStatus, type WorkerStatus } from '../monitoring/service-status';
import type { RegistryDeps } from '../registry-deps';

/** Hours the overview chart covers. */
export const HISTORY_HOURS = 24;

/** What the overview page shows, all of it cheap at any registry size. */
export interface ConsoleOverview {
  counts: Record<ProductStatus, number>;
  /** One entry per hour of the last 24, oldest first, zero-filled. */
  history: Array<{ hour: Date; publishes: number; bytes: number }>;
  oldest_staged: { data_id: string; staged_at: Date } | null;
  /** Every live worker with what it copies (bytes, rate, ETA). */
  workers: WorkerStatus[];
  /** Pauses in force: the whole service ('*') or one data type. */
  paused: PauseRow[];
  generated_at: Date;
}

/** Counts per state, the 24 h publish history, the oldest staged product, the pauses, and each worker with what it copies. */
export async function getConsoleOverview(
  deps: Pick<RegistryDeps, 'pool'> & { redis: Redis; queue: Queue<PublishJobData>; config: Pick<Config, 'redis'> },
  now = new Date(),
): Promise<ConsoleOverview> {
  const firstHour = Math.floor(now.getTime() / 3_600_000) - (HISTORY_HOURS - 1);
  const [counts, perHour, oldest, status] = await Promise.all([
    countByStatus(deps.pool),
    publishesPerHour(deps.pool, new Date(firstHour * 3_600_000)),
    oldestStaged(deps.pool),
    getServiceStatus({ queue: deps.queue, redis: deps.redis, pool: deps.pool, config: deps.config }, now),
  ]);
  const byHour = new Map(perHour.map((h) => [Math.floor(h.hour.getTime() / 3_600_000), h]));
  const history = Array.from({ length: HISTORY_HOURS }, (_, i) => {
    const h = byHour.get(firstHour + i);
    return { hour: new Date((firstHour + i) * 3_600_000), publishes: h?.publishes ?? 0, bytes: h?.bytes ?? 0 };
  });
  return { counts, history, oldest_staged: oldest ?? null, workers: status.workers, paused: status.paused, generated_at: now };
}

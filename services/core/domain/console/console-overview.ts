import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import { countByStatus } from '../../repositories/registry-stats.repository';
import { listPublishing, oldestStaged, publishesPerHour } from '../../repositories/product-search.repository';
import type { ProductStatus } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';
import { listWorkerHeartbeats, type WorkerHeartbeat } from './list-worker-heartbeats';

/** Hours the overview chart covers. */
export const HISTORY_HOURS = 24;

/** What the overview page shows, all of it cheap at any registry size. */
export interface ConsoleOverview {
  counts: Record<ProductStatus, number>;
  /** One entry per hour of the last 24, oldest first, zero-filled. */
  history: Array<{ hour: Date; publishes: number; bytes: number }>;
  oldest_staged: { data_id: string; staged_at: Date } | null;
  workers: Array<WorkerHeartbeat & { copying: Array<{ data_id: string; size_bytes: number | null; since: Date }> }>;
  /** Products in `publishing` whose lease names no worker with a live heartbeat. */
  unowned_copies: Array<{ data_id: string; lease_owner: string | null }>;
  generated_at: Date;
}

/** Counts per state, the 24 h publish history, the oldest staged product, and each worker with what it copies. */
export async function getConsoleOverview(
  deps: Pick<RegistryDeps, 'pool'> & { redis: Redis; config: Pick<Config, 'redis'> },
  now = new Date(),
): Promise<ConsoleOverview> {
  const firstHour = Math.floor(now.getTime() / 3_600_000) - (HISTORY_HOURS - 1);
  const [counts, perHour, oldest, copying, beats] = await Promise.all([
    countByStatus(deps.pool),
    publishesPerHour(deps.pool, new Date(firstHour * 3_600_000)),
    oldestStaged(deps.pool),
    listPublishing(deps.pool, 200),
    listWorkerHeartbeats(deps.redis, deps.config.redis.prefix, now.getTime()),
  ]);
  const byHour = new Map(perHour.map((h) => [Math.floor(h.hour.getTime() / 3_600_000), h]));
  const history = Array.from({ length: HISTORY_HOURS }, (_, i) => {
    const h = byHour.get(firstHour + i);
    return { hour: new Date((firstHour + i) * 3_600_000), publishes: h?.publishes ?? 0, bytes: h?.bytes ?? 0 };
  });
  const workers = beats.map((b) => ({
    ...b,
    copying: copying.filter((c) => c.lease_owner === b.instance).map((c) => ({ data_id: c.data_id, size_bytes: c.size_bytes, since: c.updated_at })),
  }));
  const live = new Set(beats.map((b) => b.instance));
  return {
    counts,
    history,
    oldest_staged: oldest ?? null,
    workers,
    unowned_copies: copying.filter((c) => !c.lease_owner || !live.has(c.lease_owner)).map((c) => ({ data_id: c.data_id, lease_owner: c.lease_owner })),
    generated_at: now,
  };
}

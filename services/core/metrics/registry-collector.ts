import type { Queue } from 'bullmq';
import type { Queryable } from '../db/pool';
import { countByTypeAndStatus, countFailedAtLeast } from '../repositories/registry-stats.repository';
import { oldestFailedAgeSeconds, oldestWaitingAgeSeconds } from '../repositories/lifecycle-stats.repository';
import { PRODUCT_STATUSES } from '../repositories/product.types';
import { ALL_TYPES, listPauses } from '../repositories/publishing-control.repository';
import type { Metrics } from './create-metrics';

/** Queue states exported as ferry_queue_jobs{state}. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'paused', 'waiting-children'] as const;

export interface RegistryCollectorDeps {
  db: Queryable;
  queue: Pick<Queue, 'getJobCounts'> | undefined;
  productTypes: readonly string[];
  maxAttempts: number;
  /** A scrape gives up on the registry figures after this long (Prometheus' own timeout is 10 s). */
  timeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Returns the scrape-time collector for the registry-wide gauges. Cheap at a million products:
 * per-status counts come from product_status_counts (kept by trigger), the oldest staged product
 * from min() over the partial index on staging rows, the max-attempts count from the small
 * partial index on failed rows, and queue depth from BullMQ's counters; nothing scans products.
 */
export function registryCollector(metrics: Metrics, deps: RegistryCollectorDeps): () => Promise<void> {
  const timeoutMs = deps.timeoutMs ?? 5000;
  return async () => {
    const [counts, oldest, exceeded, jobs, failedAge, pauses] = await Promise.all([
      withTimeout(countByTypeAndStatus(deps.db), timeoutMs, 'product_status_counts'),
      // Held products and paused types wait on purpose: they do not age the figure.
      withTimeout(oldestWaitingAgeSeconds(deps.db), timeoutMs, 'oldest staged product'),
      withTimeout(countFailedAtLeast(deps.db, deps.maxAttempts), timeoutMs, 'max attempts exceeded'),
      deps.queue ? withTimeout(deps.queue.getJobCounts(...QUEUE_STATES), timeoutMs, 'queue counts') : Promise.resolve(undefined),
      withTimeout(oldestFailedAgeSeconds(deps.db), timeoutMs, 'oldest failed product'),
      withTimeout(listPauses(deps.db), timeoutMs, 'pauses'),
    ]);
    // Every allowed type × status gets a series, so alerts see 0 rather than an absent metric.
    metrics.products.reset();
    for (const t of deps.productTypes) for (const s of PRODUCT_STATUSES) metrics.products.set({ status: s, data_type: t }, 0);
    for (const row of counts) metrics.products.set({ status: row.status, data_type: row.data_type }, Number(row.count));
    metrics.oldestStagedAge.set(oldest);
    metrics.oldestFailedAge.set(failedAge);
    metrics.paused.reset();
    for (const scope of [ALL_TYPES, ...deps.productTypes]) metrics.paused.set({ scope }, pauses.some((p) => p.scope === scope) ? 1 : 0);
    metrics.maxAttemptsExceeded.set(Number(exceeded));
    if (jobs) for (const state of QUEUE_STATES) metrics.queueJobs.set({ state }, jobs[state] ?? 0);
  };
}

import type { PauseRow } from '../../repositories/publishing-control.repository';
import { readPublishFigures } from '../../repositories/publish-status.repository';
import type { RegistryDeps } from '../registry-deps';

/** The window over which success rate and recent failures are computed. */
export const SUCCESS_RATE_WINDOW_HOURS = 24;

export interface PublishStatus {
  total_published: number;
  total_staging: number;
  total_publishing: number;
  /** Every failed product, whatever its attempt count. */
  failed_publishes: number;
  max_attempts_exceeded: number;
  total_discarded: number;
  total_retracted: number;
  /** Staging products held (auto_publish false or an operator hold); not waiting for a worker. */
  total_held: number;
  /** Percent of products whose latest outcome in the window was a publish; null below the minimum volume. */
  success_rate_percent: number | null;
  success_rate: { window_hours: number; products: number; succeeded: number; min_products: number; enough_data: boolean };
  /** Products whose latest outcome in the last 24 h was a failure (a retry scheduled, or failed). */
  recent_failures_24h: number;
  /** Oldest product waiting for a worker (held products and paused types left out). */
  oldest_waiting_age_seconds: number;
  oldest_failed_age_seconds: number;
  paused: PauseRow[];
  timestamp: Date;
}

/**
 * Registry-wide publish figures that mean what they say: counts from product_status_counts (kept
 * by trigger); the success rate from each product's latest outcome over the last 24 h (a failure
 * fixed by a retry is a success, discarded products do not count), and only once at least
 * SUCCESS_RATE_MIN_PRODUCTS products had an outcome ("not enough data" below: null).
 */
export async function getPublishStatus(deps: Pick<RegistryDeps, 'pool' | 'config'>, now = new Date()): Promise<PublishStatus> {
  const since = new Date(now.getTime() - SUCCESS_RATE_WINDOW_HOURS * 3600_000);
  const { counts, exceeded, outcomes, held, oldestWaitingAgeSeconds: waitingAge, oldestFailedAgeSeconds: failedAge, paused } =
    await readPublishFigures(deps.pool, deps.config.publish.maxAttempts, since);
  const min = deps.config.publish.successRateMinProducts;
  const enough = outcomes.products >= min;
  return {
    total_published: counts.published,
    total_staging: counts.staging,
    total_publishing: counts.publishing,
    failed_publishes: counts.failed,
    max_attempts_exceeded: exceeded,
    total_discarded: counts.discarded,
    total_retracted: counts.retracted,
    total_held: held,
    success_rate_percent: enough ? Math.round((outcomes.succeeded / outcomes.products) * 10000) / 100 : null,
    success_rate: { window_hours: SUCCESS_RATE_WINDOW_HOURS, products: outcomes.products, succeeded: outcomes.succeeded, min_products: min, enough_data: enough },
    recent_failures_24h: outcomes.products - outcomes.succeeded,
    oldest_waiting_age_seconds: Math.round(waitingAge),
    oldest_failed_age_seconds: Math.round(failedAge),
    paused,
    timestamp: now,
  };
}

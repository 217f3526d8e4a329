import { publishFigures } from '../../repositories/registry-stats.repository';
import type { RegistryDeps } from '../registry-deps';

/** The window over which success rate and recent failures are computed. */
export const SUCCESS_RATE_WINDOW_HOURS = 24;

export interface PublishStatus {
  total_published: number;
  total_staging: number;
  total_publishing: number;
  failed_publishes: number;
  max_attempts_exceeded: number;
  success_rate_percent: number;
  recent_failures_24h: number;
  timestamp: Date;
}

/**
 * Registry-wide publish figures: counts from product_status_counts (kept by trigger, never a scan of
 * products); success rate and recent failures from the attempts that ended in the last 24 h of
 * the event log (100 when there were none); max_attempts_exceeded counts failed products whose
 * attempts reached PUBLISH_MAX_ATTEMPTS.
 */
export async function getPublishStatus(deps: Pick<RegistryDeps, 'pool' | 'config'>, now = new Date()): Promise<PublishStatus> {
  const since = new Date(now.getTime() - SUCCESS_RATE_WINDOW_HOURS * 3600_000);
  // One statement, so a status request holds one pool client for one round trip.
  const { counts, exceeded, ...outcomes } = await publishFigures(deps.pool, deps.config.publish.maxAttempts, since);
  const rate = outcomes.attempts === 0 ? 100 : Math.round((outcomes.successes / outcomes.attempts) * 10000) / 100;
  return {
    total_published: counts.published,
    total_staging: counts.staging,
    total_publishing: counts.publishing,
    failed_publishes: counts.failed,
    max_attempts_exceeded: exceeded,
    success_rate_percent: rate,
    recent_failures_24h: outcomes.attempts - outcomes.successes,
    timestamp: now,
  };
}

import type { ApiClient } from '../http/api-client';
import type { PublishStatus } from '../http/api-types';
import type { HealthSnapshot, Thresholds } from './thresholds';

const HOUR_MS = 3600_000;

const FAILED_PAGE = 500;
const FAILED_PAGES_MAX = 20;

/**
 * Failures in the last hour. The status endpoint reports failures over 24 h only, so unless it
 * carries `recent_failures_1h`, count the failed products whose last change (the failure) falls
 * within the hour. The failed set is small by design; paging stops after 10,000 rows.
 */
async function failuresLastHour(api: ApiClient, status: PublishStatus, now: Date, signal?: AbortSignal): Promise<number> {
  if (typeof status.recent_failures_1h === 'number') return status.recent_failures_1h;
  const since = now.getTime() - HOUR_MS;
  let count = 0;
  let cursor: string | undefined;
  for (let page = 0; page < FAILED_PAGES_MAX; page++) {
    const res = await api.listProducts({ status: 'failed', limit: FAILED_PAGE, cursor }, signal);
    count += res.products.filter((p) => Date.parse(p.updated_at ?? p.created_at) >= since).length;
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return count;
}

/**
 * Reads what the thresholds need: the publish status, failures in the last hour, and whether any
 * product was created before the staging-age limit and is still staging (one row, indexed).
 */
export async function collectHealth(api: ApiClient, t: Thresholds, now: Date, signal?: AbortSignal): Promise<HealthSnapshot> {
  const status = await api.publishStatus(signal);
  const cutoff = new Date(now.getTime() - t.maxStagingHours * HOUR_MS);
  // The API's own figure leaves held products and paused types out; older APIs lack it, then list one row.
  const waiting = status.oldest_waiting_age_seconds;
  const tooOld = typeof waiting === 'number' && waiting > 0 && waiting * 1000 > t.maxStagingHours * HOUR_MS;
  const [failures, old] = await Promise.all([
    failuresLastHour(api, status, now, signal),
    // One staging row older than the limit, to name it (only when the figure says one is that old).
    typeof waiting === 'number' && !tooOld ? Promise.resolve(undefined) : api.listProducts({ status: 'staging', created_until: cutoff.toISOString(), limit: 1 }, signal),
  ]);
  let oldestStaging: HealthSnapshot['oldest_staging'] = null;
  if (typeof waiting === 'number') {
    if (tooOld) {
      const name = old?.products[0]?.data_id ?? 'oldest waiting product';
      oldestStaging = { data_id: name, since: new Date(now.getTime() - waiting * 1000).toISOString(), age_hours: waiting / 3600 };
    }
  } else {
    const oldest = old?.products[0];
    // Age from created_at, the column the created_until filter above selects on.
    if (oldest) oldestStaging = { data_id: oldest.data_id, since: oldest.created_at, age_hours: (now.getTime() - Date.parse(oldest.created_at)) / HOUR_MS };
  }
  return {
    success_rate_percent: status.success_rate_percent,
    failures_last_hour: failures,
    oldest_staging: oldestStaging,
    max_attempts_exceeded: status.max_attempts_exceeded,
    total_published: status.total_published,
    total_staging: status.total_staging,
    total_publishing: status.total_publishing,
    failed_publishes: status.failed_publishes,
  };
}

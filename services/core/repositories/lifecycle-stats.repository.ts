import type { Queryable } from '../db/pool';

// Each figure's SQL is written once: the metrics collector runs some alone (below), publish status
// reads them all in one statement (publish-status.repository.ts).
export const OLDEST_WAITING_AGE = `SELECT CASE WHEN EXISTS (SELECT 1 FROM publishing_pauses WHERE scope = '*') THEN 0 ELSE
       (SELECT EXTRACT(EPOCH FROM now() - staged_at)::float8 FROM products
         WHERE status = 'staging' AND NOT held
           AND data_type NOT IN (SELECT scope FROM publishing_pauses)
         ORDER BY staged_at LIMIT 1) END AS age`;
export const OLDEST_FAILED_AGE = `SELECT EXTRACT(EPOCH FROM now() - min(updated_at))::float8 AS age FROM products WHERE status = 'failed'`;
/** Held products: staging with no due time (registered with auto_publish false, or held by an operator). */
export const COUNT_HELD = `SELECT count(*)::bigint AS n FROM products WHERE status = 'staging' AND held`;
/**
 * Success over a window counted per product, from each product's latest attempt outcome in the
 * window: a failure later fixed by a successful retry counts once, as a success; discarded
 * products are left out. `since` is an SQL expression of a timestamptz. Whole hours are summed from
 * latest_outcome_hours (at most 25 hours × 16 shards, kept by trigger); only the partial hour at the
 * window's start is counted row by row, from latest_outcomes_at_idx alone. So the cost does not grow
 * with the window's activity (migration 1796540400000_latest-outcome-hours.sql says how).
 */
export const latestOutcomes = (since: string) => {
  const hourOf = `floor(extract(epoch FROM ${since}::timestamptz) / 3600)::bigint`;
  return `SELECT edge.products + hours.products AS products, edge.succeeded + hours.succeeded AS succeeded
       FROM (SELECT COALESCE(sum(products), 0)::bigint AS products, COALESCE(sum(successes), 0)::bigint AS succeeded
               FROM latest_outcomes
              WHERE counted AND at >= ${since}::timestamptz AND at < to_timestamp((${hourOf} + 1) * 3600)) AS edge,
            (SELECT COALESCE(sum(products), 0)::bigint AS products, COALESCE(sum(successes), 0)::bigint AS succeeded
               FROM latest_outcome_hours WHERE hour > ${hourOf}) AS hours`;
};

/**
 * Age of the oldest product waiting to be published: staging and due, leaving out held products
 * (held) and those of paused data types; 0 when the whole service is paused or none
 * waits. Reads products_staged_waiting_idx in staged_at order.
 */
export async function oldestWaitingAgeSeconds(db: Queryable): Promise<number> {
  const res = await db.query<{ age: number | null }>(OLDEST_WAITING_AGE);
  return Math.max(0, res.rows[0]?.age ?? 0);
}

/** How long the longest-failed product has been failed (products_failed_idx on updated_at); 0 when none. */
export async function oldestFailedAgeSeconds(db: Queryable): Promise<number> {
  const res = await db.query<{ age: number | null }>(OLDEST_FAILED_AGE);
  return Math.max(0, res.rows[0]?.age ?? 0);
}

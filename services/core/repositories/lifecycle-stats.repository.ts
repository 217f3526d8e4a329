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
 * products are left out. Reads the window's events by product_events_time_idx.
 */
export const latestOutcomes = (since: string) =>
  `SELECT count(*)::bigint AS products, count(*) FILTER (WHERE l.to_status = 'published')::bigint AS succeeded
       FROM (SELECT DISTINCT ON (product_id) product_id, to_status
               FROM product_events
              WHERE created_at >= ${since} AND ends_attempt
              ORDER BY product_id, id DESC) l
       JOIN products p ON p.id = l.product_id
      WHERE p.status::text <> 'discarded'`;

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

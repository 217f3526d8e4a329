import type { Queryable } from '../db/pool';

/**
 * Age of the oldest product waiting to be published: staging and due, leaving out held products
 * (held) and those of paused data types; 0 when the whole service is paused or none
 * waits. Reads products_staged_waiting_idx in staged_at order.
 */
export async function oldestWaitingAgeSeconds(db: Queryable): Promise<number> {
  const res = await db.query<{ age: number | null }>(
    `SELECT CASE WHEN EXISTS (SELECT 1 FROM publishing_pauses WHERE scope = '*') THEN 0 ELSE
       (SELECT EXTRACT(EPOCH FROM now() - staged_at)::float8 FROM products
         WHERE status = 'staging' AND NOT held
           AND data_type NOT IN (SELECT scope FROM publishing_pauses)
         ORDER BY staged_at LIMIT 1) END AS age`,
  );
  return Math.max(0, res.rows[0]?.age ?? 0);
}

/** How long the longest-failed product has been failed (products_failed_idx on updated_at); 0 when none. */
export async function oldestFailedAgeSeconds(db: Queryable): Promise<number> {
  const res = await db.query<{ age: number | null }>(
    `SELECT EXTRACT(EPOCH FROM now() - min(updated_at))::float8 AS age FROM products WHERE status = 'failed'`,
  );
  return Math.max(0, res.rows[0]?.age ?? 0);
}

/** Held products: staging with no due time (registered with auto_publish false, or held by an operator). */
export async function countHeld(db: Queryable): Promise<number> {
  const res = await db.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM products WHERE status = 'staging' AND held`);
  return Number(res.rows[0]?.n ?? 0);
}

/**
 * Success over a window counted per product, from each product's latest attempt outcome in the
 * window: a failure later fixed by a successful retry counts once, as a success; discarded
 * products are left out. Reads the window's events by product_events_time_idx.
 */
export async function latestOutcomesSince(db: Queryable, since: Date): Promise<{ products: number; succeeded: number }> {
  const res = await db.query<{ products: number; succeeded: number }>(
    `SELECT count(*)::bigint AS products, count(*) FILTER (WHERE l.to_status = 'published')::bigint AS succeeded
       FROM (SELECT DISTINCT ON (product_id) product_id, to_status
               FROM product_events
              WHERE created_at >= $1 AND ends_attempt
              ORDER BY product_id, id DESC) l
       JOIN products p ON p.id = l.product_id
      WHERE p.status::text <> 'discarded'`,
    [since],
  );
  return { products: Number(res.rows[0]?.products ?? 0), succeeded: Number(res.rows[0]?.succeeded ?? 0) };
}

import type { Queryable } from '../db/pool';
import type { ProductStatus } from './product.types';

// Each figure's SQL is written once: used alone below, and together in publish-status.repository.ts.
export const STATUS_COUNTS = 'SELECT status, sum(count)::bigint AS count FROM product_status_counts GROUP BY status';
export const failedAtLeast = (maxAttempts: string) => `SELECT count(*)::bigint AS count FROM products WHERE status = 'failed' AND publish_attempts >= ${maxAttempts}`;
const attemptOutcomes = (since: string, firstWholeHour: string) =>
  `SELECT edge.attempts + hours.attempts AS attempts, edge.successes + hours.successes AS successes
     FROM (SELECT count(*)::bigint AS attempts, count(*) FILTER (WHERE to_status = 'published')::bigint AS successes
             FROM product_events
            WHERE created_at >= ${since} AND created_at < to_timestamp(${firstWholeHour}::bigint * 3600) AND ends_attempt) AS edge,
          (SELECT COALESCE(sum(attempts), 0)::bigint AS attempts, COALESCE(sum(successes), 0)::bigint AS successes
             FROM publish_attempt_hours WHERE hour >= ${firstWholeHour}) AS hours`;

export const emptyCounts = (): Record<ProductStatus, number> => ({ staging: 0, publishing: 0, published: 0, failed: 0, discarded: 0, retracted: 0 });

/** Registry-wide counts per status, read from the trigger-kept product_status_counts (never scans products). */
export async function countByStatus(db: Queryable): Promise<Record<ProductStatus, number>> {
  const res = await db.query<{ status: ProductStatus; count: number }>(STATUS_COUNTS);
  const out = emptyCounts();
  for (const row of res.rows) out[row.status] = row.count;
  return out;
}

/** Registry-wide counts per (data_type, status), from the trigger-kept shards. */
export async function countByTypeAndStatus(db: Queryable): Promise<{ data_type: string; status: ProductStatus; count: number }[]> {
  const res = await db.query<{ data_type: string; status: ProductStatus; count: number }>(
    'SELECT data_type, status::text AS status, sum(count)::bigint AS count FROM product_status_counts GROUP BY data_type, status',
  );
  return res.rows;
}

/** Seconds since the oldest `staging` product was staged (products_staged_idx); 0 when none is. */
export async function oldestStagedAgeSeconds(db: Queryable): Promise<number> {
  const res = await db.query<{ age: number | null }>(
    `SELECT EXTRACT(EPOCH FROM now() - min(staged_at))::float8 AS age FROM products WHERE status = 'staging'`,
  );
  return Math.max(0, res.rows[0]?.age ?? 0);
}

/** Failed products that used up at least maxAttempts attempts, from the failed rows' (publish_attempts) partial index alone. */
export async function countFailedAtLeast(db: Queryable, maxAttempts: number): Promise<number> {
  const res = await db.query<{ count: number }>(failedAtLeast('$1'), [maxAttempts]);
  return res.rows[0]?.count ?? 0;
}

/** The first whole hour (hours since the epoch) after `since`. */
const firstWholeHour = (since: Date) => Math.floor(since.getTime() / 3_600_000) + 1;

/**
 * Publish attempts that ended since `since`: the events whose transition ends an attempt
 * (`ends_attempt`, see product-state/product-event.ts); it succeeded when it went to `published`,
 * and failed otherwise. A lease released on shutdown (attempt refunded) is no attempt at all. Whole
 * hours come from publish_attempt_hours (kept by trigger); only the partial hour at the start of
 * the window is counted from the event log, so the cost does not grow with the window's traffic.
 */
export async function attemptOutcomesSince(db: Queryable, since: Date): Promise<{ attempts: number; successes: number }> {
  const res = await db.query<{ attempts: number; successes: number }>(attemptOutcomes('$1', '$2'), [since, firstWholeHour(since)]);
  return { attempts: res.rows[0]?.attempts ?? 0, successes: res.rows[0]?.successes ?? 0 };
}

import type { Queryable } from '../db/pool';
import type { ProductStatus } from './product.types';

// Each figure's SQL is written once: used alone below, and together in publish-status.repository.ts.
export const STATUS_COUNTS = 'SELECT status, sum(count)::bigint AS count FROM product_status_counts GROUP BY status';
export const failedAtLeast = (maxAttempts: string) => `SELECT count(*)::bigint AS count FROM products WHERE status = 'failed' AND publish_attempts >= ${maxAttempts}`;
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

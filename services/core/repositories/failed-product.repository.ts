import type { Queryable } from '../db/pool';
import type { ProductRow } from './product.types';

/** The columns the failed list shows (a page of whole rows would also carry their metadata). */
export type FailedProductRow = Pick<ProductRow, 'data_id' | 'data_type' | 'stage_path' | 'publish_attempts' | 'publish_error' | 'staged_at' | 'created_at'>;

/** Failed products, oldest first; maxAttempts keeps only those with at most that many attempts. */
export async function listFailedProducts(db: Queryable, f: { maxAttempts?: number; limit: number }): Promise<FailedProductRow[]> {
  const res = await db.query<FailedProductRow>(
    `SELECT data_id, data_type, stage_path, publish_attempts, publish_error, staged_at, created_at FROM products
      WHERE status = 'failed' AND ($1::int IS NULL OR publish_attempts <= $1::int)
      ORDER BY created_at, id LIMIT $2`,
    [f.maxAttempts ?? null, f.limit],
  );
  return res.rows;
}

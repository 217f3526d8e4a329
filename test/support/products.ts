import type { Queryable } from '../../services/core/db/pool';
import { TRANSITIONS, type ProductEvent } from '../../services/core/repositories/product-state';
import type { ProductRow, ProductStatus } from '../../services/core/repositories/product.types';

export interface SeedProduct {
  data_id: string;
  data_type?: string;
  stage_path?: string;
  status?: ProductStatus;
  publish_attempts?: number;
  publish_error?: string | null;
  error_class?: string | null;
  published_path?: string | null;
  created_at?: Date;
}

/**
 * Inserts a product row directly (no file, no safeguard), for tests that need a registry in a
 * given state. stage_path and destination default to `<data_id>.fits`; it is staged when created.
 */
export async function seedProduct(db: Queryable, p: SeedProduct): Promise<ProductRow> {
  const stagePath = p.stage_path ?? `${p.data_id}.fits`;
  const res = await db.query<ProductRow>(
    `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, size_bytes, file_count,
                           publish_attempts, publish_error, error_class, published_path, published_at, created_at, staged_at, due_at)
     VALUES ($1, $2, $3, $3, 'file', $4::product_status, 1, 1, $5, $6, $7, $8, CASE WHEN $4::product_status = 'published' THEN now() END, $9, $9,
             CASE WHEN $4::product_status = 'staging' THEN now() END)
     RETURNING *`,
    [p.data_id, p.data_type ?? 'image', stagePath, p.status ?? 'staging', p.publish_attempts ?? 0, p.publish_error ?? null,
      p.error_class ?? null, p.published_path ?? null, p.created_at ?? new Date()],
  );
  return res.rows[0] as ProductRow;
}

/** Appends one event row with an explicit time, for success-rate windows. */
export async function seedEvent(
  db: Queryable,
  product: Pick<ProductRow, 'id' | 'data_id'>,
  e: { from: ProductStatus | null; to: ProductStatus; at?: Date; event?: string; error_class?: string },
): Promise<void> {
  const event = e.event ?? `${e.from ?? 'none'}_to_${e.to}`;
  // A named event ends an attempt when its transition says so; a made-up one when it leaves publishing.
  const endsAttempt = TRANSITIONS[event as ProductEvent]?.endsAttempt ?? (e.from === 'publishing' && e.to !== 'publishing');
  await db.query(
    `INSERT INTO product_events (product_id, data_id, event, from_status, to_status, error_class, created_at, ends_attempt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [product.id, product.data_id, event, e.from, e.to, e.error_class ?? null, e.at ?? new Date(), endsAttempt],
  );
}

/** Row counts of the registry tables, to prove a refused request wrote nothing. */
export async function registryCounts(db: Queryable): Promise<{ products: number; events: number }> {
  const res = await db.query<{ products: number; events: number }>(
    'SELECT (SELECT count(*) FROM products)::int AS products, (SELECT count(*) FROM product_events)::int AS events',
  );
  return res.rows[0] as { products: number; events: number };
}

/**
 * The (data_type, status) pairs whose trigger-kept count (the sum over its shards, as every reader
 * takes it) differs from the count recomputed from products: empty when the trigger kept up with
 * every change (multi-row statements too). A shard row left at zero is a drift too: the trigger deletes those.
 */
export async function statusCountDrift(db: Queryable): Promise<unknown[]> {
  const res = await db.query(
    `SELECT data_type, status, k.count AS kept, r.count AS recomputed, k.zero_rows
       FROM (SELECT data_type, status, sum(count)::bigint AS count, count(*) FILTER (WHERE count = 0)::int AS zero_rows
               FROM product_status_counts GROUP BY 1, 2) k
       FULL JOIN (SELECT data_type, status, count(*) AS count FROM products GROUP BY 1, 2) r
      USING (data_type, status)
      WHERE COALESCE(k.count, 0) <> COALESCE(r.count, 0) OR k.zero_rows > 0`,
  );
  return res.rows;
}

import type { Queryable } from '../db/pool';
import type { ProductEventRow, ProductStatus } from './product.types';

export interface NewEvent {
  product_id: number;
  data_id: string;
  event: string;
  attempt: number;
  from_status: ProductStatus | null;
  to_status: ProductStatus;
  error_class?: string | null;
  error?: string | null;
  bytes?: number | null;
  duration_ms?: number | null;
  worker?: string | null;
}

/** Appends one state change to the audit trail; call it in the same transaction as the change. */
export async function appendEvent(db: Queryable, e: NewEvent): Promise<void> {
  await db.query(
    `INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, error_class, error, bytes, duration_ms, worker)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [e.product_id, e.data_id, e.event, e.attempt, e.from_status, e.to_status, e.error_class ?? null, e.error ?? null,
      e.bytes ?? null, e.duration_ms ?? null, e.worker ?? null],
  );
}

/** Every event of one product, oldest first. */
export async function listEventsForProduct(db: Queryable, productId: number): Promise<ProductEventRow[]> {
  const res = await db.query<ProductEventRow>('SELECT * FROM product_events WHERE product_id = $1 ORDER BY id', [productId]);
  return res.rows;
}

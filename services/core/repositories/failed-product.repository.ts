import type { Queryable } from '../db/pool';
import type { ProductRow } from './product.types';

/** A product moved from `failed` back to `staging`, with the attempt count and error it had before. */
export type RequeuedProductRow = ProductRow & { previous_attempts: number; previous_error: string | null; previous_error_class: string | null };

// The columns an operator retry resets: a fresh attempt budget, due now, error cleared (the event log keeps it).
const REQUEUE_SET = `status = 'staging', publish_attempts = 0, publish_error = NULL, error_class = NULL,
  lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = now(), updated_at = now()`;

/** Moves one product from `failed` to `staging`; undefined when it is not (or no longer) failed. */
export async function requeueFailedProduct(db: Queryable, id: number): Promise<RequeuedProductRow | undefined> {
  const res = await db.query<RequeuedProductRow>(
    `WITH old AS (SELECT id, publish_attempts, publish_error, error_class FROM products WHERE id = $1 AND status = 'failed' FOR UPDATE)
     UPDATE products p SET ${REQUEUE_SET}
       FROM old WHERE p.id = old.id
     RETURNING p.*, old.publish_attempts AS previous_attempts, old.publish_error AS previous_error, old.error_class AS previous_error_class`,
    [id],
  );
  return res.rows[0];
}

/** Makes a held (auto_publish false) staging product due now; undefined when it was not held. */
export async function markProductDue(db: Queryable, id: number): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `UPDATE products SET next_attempt_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'staging' AND next_attempt_at IS NULL
      RETURNING *`,
    [id],
  );
  return res.rows[0];
}

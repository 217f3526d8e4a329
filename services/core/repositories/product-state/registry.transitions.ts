import type { Queryable } from '../../db/pool';
import { overlapKeys, type NewProduct } from '../product.repository';
import type { ProductRow } from '../product.types';
import { eventInsert } from './event-insert';

/**
 * [*] → staging, `registered`: inserts the product — due now, or held until a publish request when
 * `due` is false — and its event in one statement, only when neither the data_id nor an equal or
 * nested destination is taken. undefined when something was in the way; the caller then finds out
 * what. Run it under lockDestination, which makes the checks race-free. A correction's
 * `supersedes` goes into the row and into the event's detail.
 */
export async function recordRegistered(db: Queryable, p: NewProduct): Promise<ProductRow | undefined> {
  const { ancestors, nestedPattern } = overlapKeys(p.destination_path);
  const res = await db.query<ProductRow>(
    `WITH ins AS (
       INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, size_bytes, file_count,
                             expected_sha256, metadata, held, due_at, supersedes)
       SELECT $1, $2, $3, $4, $5::product_kind, $6::bigint, $7::integer, $8, $9::jsonb, NOT $10::boolean, CASE WHEN $10::boolean THEN now() END, $13::text
        WHERE NOT EXISTS (SELECT 1 FROM products WHERE data_id = $1)
          AND NOT EXISTS (SELECT 1 FROM products WHERE destination_path = ANY($11::text[]) OR destination_path LIKE $12 ESCAPE '\\')
       ON CONFLICT DO NOTHING
       RETURNING *
     ), ev AS (${eventInsert('registered', 'ins', {
       attempt: '0',
       // A correction says in its first event which product it replaces.
       detail: "CASE WHEN supersedes IS NULL THEN NULL ELSE jsonb_build_object('supersedes', supersedes) END",
     })})
     SELECT * FROM ins`,
    [p.data_id, p.data_type, p.stage_path, p.destination_path, p.kind, p.size_bytes, p.file_count, p.expected_sha256, p.metadata,
      p.due ?? true, ancestors, nestedPattern, p.supersedes ?? null],
  );
  return res.rows[0];
}

/** staging → staging, `publish_requested`: a held product becomes due now; undefined when it was not held. */
export async function recordPublishRequested(db: Queryable, id: number): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `WITH r AS (
       UPDATE products SET held = false, due_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'staging' AND held
        RETURNING *
     ), ev AS (${eventInsert('publish_requested', 'r', { attempt: 'publish_attempts' })})
     SELECT * FROM r`,
    [id],
  );
  return res.rows[0];
}

/** A product moved from `failed` back to `staging`, with the attempt count and error it had before. */
export type RequeuedProductRow = ProductRow & { previous_attempts: number; previous_error: string | null; previous_error_class: string | null };

/** Which failed products an operator retries: one (already locked by the caller), or the oldest few. */
export type RetryPick = { id: number } | { maxAttempts?: number; limit: number };

/**
 * failed → staging, `retry_requested`: a fresh attempt budget, due now, error cleared (the event
 * keeps the previous attempts and error). For the oldest few, SKIP LOCKED plus the status guard
 * mean two concurrent callers never both take the same product. Rows come back oldest first.
 */
export async function recordRetryRequested(db: Queryable, pick: RetryPick, by?: { actor: string; reason: string | null }): Promise<RequeuedProductRow[]> {
  // The operator and reason, when given, follow the pick's own parameters.
  const at = 'id' in pick ? 2 : 3;
  const picked = 'id' in pick
    ? `SELECT id, publish_attempts, publish_error, error_class FROM products WHERE id = $1 AND status = 'failed' FOR UPDATE`
    : `SELECT id, publish_attempts, publish_error, error_class FROM products
        WHERE status = 'failed' AND ($1::int IS NULL OR publish_attempts <= $1::int)
        ORDER BY created_at, id LIMIT $2
        FOR UPDATE SKIP LOCKED`;
  const res = await db.query<RequeuedProductRow>(
    `WITH picked AS (${picked}),
     r AS (
       UPDATE products p
          SET status = 'staging', publish_attempts = 0, publish_error = NULL, error_class = NULL, held = false, due_at = now(),
              lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         FROM picked WHERE p.id = picked.id AND p.status = 'failed'
       RETURNING p.*, picked.publish_attempts AS previous_attempts, picked.publish_error AS previous_error,
                 picked.error_class AS previous_error_class
     ), ev AS (${eventInsert('retry_requested', '(SELECT * FROM r ORDER BY created_at, id) r',
      { attempt: 'previous_attempts', errorClass: 'previous_error_class', error: 'previous_error', actor: `$${at}::text`, reason: `$${at + 1}::text` })})
     SELECT * FROM r`,
    [...('id' in pick ? [pick.id] : [pick.maxAttempts ?? null, pick.limit]), by?.actor ?? null, by?.reason ?? null],
  );
  return res.rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id - b.id);
}

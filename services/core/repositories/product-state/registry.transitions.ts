import type { Queryable } from '../../db/pool';
import { flattenAncestors, nestedUnder, type NewProduct } from '../product.repository';
import { prepared } from '../../db/prepared';
import { productColumns, type ProductRow } from '../product.types';
import { eventInsert } from './event-insert';

/**
 * [*] → staging, `registered`: inserts the product — due now, or held until a publish request when
 * `due` is false — and its event in one statement, only when neither the data_id nor an equal or
 * nested destination is taken. undefined when something was in the way; the caller then finds out
 * what. Run it under lockDestinations, which makes the checks race-free. A correction's
 * `supersedes` goes into the row and into the event's detail. A batch's products go in one
 * statement, each with its own event, answered in the order given; the checks see only rows
 * written before the statement, so the caller must already have ruled out collisions among them.
 */
export async function recordRegistered(db: Queryable, p: NewProduct): Promise<ProductRow | undefined>;
export async function recordRegistered(db: Queryable, ps: readonly NewProduct[]): Promise<Array<ProductRow | undefined>>;
export async function recordRegistered(db: Queryable, arg: NewProduct | readonly NewProduct[]): Promise<ProductRow | undefined | Array<ProductRow | undefined>> {
  const ps: readonly NewProduct[] = Array.isArray(arg) ? arg : [arg as NewProduct];
  if (ps.length === 0) return [];
  const ancestors = flattenAncestors(ps.map((p) => p.destination_path));
  const col = <K extends keyof NewProduct>(k: K) => ps.map((p) => p[k]);
  const res = await db.query<ProductRow>(prepared(
    `WITH v AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::product_kind[], $6::bigint[], $7::integer[], $8::text[],
                            $9::jsonb[], $10::boolean[], $11::text[])
         WITH ORDINALITY AS v(data_id, data_type, stage_path, destination_path, kind, size_bytes, file_count, expected_sha256,
                              metadata, due, supersedes, ord)
     ), taken AS (
       SELECT a.ord FROM unnest($12::integer[], $13::text[]) AS a(ord, path) JOIN products o ON o.destination_path = a.path
     ), ins AS (
       INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, size_bytes, file_count,
                             expected_sha256, metadata, held, due_at, supersedes)
       SELECT data_id, data_type, stage_path, destination_path, kind, size_bytes, file_count, expected_sha256, metadata,
              NOT due, CASE WHEN due THEN now() END, supersedes
         FROM v
        WHERE NOT EXISTS (SELECT 1 FROM products o WHERE o.data_id = v.data_id)
          AND v.ord NOT IN (SELECT ord FROM taken)
          AND NOT EXISTS (SELECT 1 FROM products o WHERE ${nestedUnder('o.destination_path', 'v.destination_path')})
        ORDER BY v.ord
       ON CONFLICT DO NOTHING
       RETURNING *
     ), ev AS (${eventInsert('registered', '(SELECT * FROM ins ORDER BY id) ins', {
       attempt: '0',
       // A correction says in its first event which product it replaces.
       detail: "CASE WHEN supersedes IS NULL THEN NULL ELSE jsonb_build_object('supersedes', supersedes) END",
     })})
     SELECT ${productColumns()} FROM ins`,
    [col('data_id'), col('data_type'), col('stage_path'), col('destination_path'), col('kind'), col('size_bytes'), col('file_count'),
      col('expected_sha256'), ps.map((p) => JSON.stringify(p.metadata)), ps.map((p) => p.due ?? true), ps.map((p) => p.supersedes ?? null),
      ancestors.of.map((i) => i + 1), ancestors.paths],
  ));
  const byDataId = new Map(res.rows.map((r) => [r.data_id, r]));
  const rows = ps.map((p) => byDataId.get(p.data_id));
  return Array.isArray(arg) ? rows : rows[0];
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

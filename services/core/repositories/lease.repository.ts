import type { Queryable } from '../db/pool';
import type { ManifestEntry, ProductRow } from './product.types';

/**
 * Marks a locked row `publishing` under a fresh lease and counts the attempt. next_attempt_at
 * follows the lease expiry, so the reconciler's due sweep finds the row again only once the lease
 * has run out (a dead worker).
 */
export async function startLease(db: Queryable, id: number, token: string, owner: string, leaseSeconds: number): Promise<ProductRow> {
  const res = await db.query<ProductRow>(
    `UPDATE products
        SET status = 'publishing', lease_token = $2, lease_owner = $3,
            lease_expires_at = now() + make_interval(secs => $4), next_attempt_at = now() + make_interval(secs => $4),
            publish_attempts = publish_attempts + 1, updated_at = now()
      WHERE id = $1
      RETURNING *`,
    [id, token, owner, leaseSeconds],
  );
  return res.rows[0]!;
}

/**
 * The common claim in one statement: a `staging` row due by `now` becomes `publishing` under a
 * fresh lease, with its `claimed` event written by the same statement (atomic, one round trip).
 * undefined when the row is missing or not in that state; the caller then takes the locking path.
 */
export async function claimDueProduct(db: Queryable, dataId: string, token: string, owner: string, leaseSeconds: number, now: Date): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `WITH c AS (
       UPDATE products
          SET status = 'publishing', lease_token = $2, lease_owner = $3,
              lease_expires_at = now() + make_interval(secs => $4), next_attempt_at = now() + make_interval(secs => $4),
              publish_attempts = publish_attempts + 1, updated_at = now()
        WHERE data_id = $1 AND status = 'staging' AND next_attempt_at <= $5
        RETURNING *
     ), e AS (
       INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, worker)
       SELECT id, data_id, 'claimed', publish_attempts, 'staging', 'publishing', $3 FROM c
     )
     SELECT * FROM c`,
    [dataId, token, owner, leaseSeconds, now],
  );
  return res.rows[0];
}

/** Pushes the lease expiry forward; false when the row no longer holds this token. */
export async function extendLease(db: Queryable, id: number, token: string, leaseSeconds: number): Promise<boolean> {
  const res = await db.query(
    `UPDATE products
        SET lease_expires_at = now() + make_interval(secs => $3), next_attempt_at = now() + make_interval(secs => $3)
      WHERE id = $1 AND lease_token = $2 AND status = 'publishing'`,
    [id, token, leaseSeconds],
  );
  return res.rowCount === 1;
}

/** Locks the row if (and only if) it still holds this lease. */
export async function lockLeasedProduct(db: Queryable, id: number, token: string): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `SELECT * FROM products WHERE id = $1 AND lease_token = $2 AND status = 'publishing' FOR UPDATE`,
    [id, token],
  );
  return res.rows[0];
}

export interface PublishedFields {
  published_path: string;
  size_bytes: number;
  file_count: number;
  checksum_sha256: string;
  manifest: ManifestEntry[] | null;
  /** Move mode: the source still has to be removed; next_attempt_at stays set until it is. */
  source_cleanup_pending: boolean;
}

/** Who committed a publish, for its `published` event. */
export interface PublishedEvent {
  attempt: number;
  durationMs: number;
  worker: string;
}

/**
 * The commit: `published`, only where the row still holds this lease token, and its `published`
 * event, in one statement (atomic, one round trip). undefined when the lease is no longer held.
 */
export async function markPublished(db: Queryable, id: number, token: string, f: PublishedFields, ev: PublishedEvent): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `WITH p AS (
       UPDATE products
          SET status = 'published', published_path = $3, size_bytes = $4, file_count = $5, checksum_sha256 = $6,
              manifest = $7::jsonb, published_at = now(), updated_at = now(),
              lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
              next_attempt_at = CASE WHEN $8::boolean THEN now() ELSE NULL END,
              publish_error = NULL, error_class = NULL
        WHERE id = $1 AND lease_token = $2 AND status = 'publishing'
        RETURNING *
     ), e AS (
       INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, bytes, duration_ms, worker)
       SELECT id, data_id, 'published', $9, 'publishing', 'published', size_bytes, $10, $11 FROM p
     )
     SELECT * FROM p`,
    [id, token, f.published_path, f.size_bytes, f.file_count, f.checksum_sha256, f.manifest === null ? null : JSON.stringify(f.manifest), f.source_cleanup_pending,
      ev.attempt, Math.round(ev.durationMs), ev.worker],
  );
  return res.rows[0];
}

/** Ends a lease with the product back in `staging` (retry later or now) or `failed`. */
export async function endLease(
  db: Queryable,
  id: number,
  to: { status: 'staging' | 'failed'; nextAttemptAt: Date | null; error: string | null; errorClass: string | null; refundAttempt?: boolean },
): Promise<ProductRow> {
  const res = await db.query<ProductRow>(
    `UPDATE products
        SET status = $2, next_attempt_at = $3, publish_error = $4, error_class = $5, updated_at = now(),
            lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
            publish_attempts = CASE WHEN $6::boolean THEN GREATEST(publish_attempts - 1, 0) ELSE publish_attempts END
      WHERE id = $1
      RETURNING *`,
    [id, to.status, to.nextAttemptAt, to.error, to.errorClass, to.refundAttempt ?? false],
  );
  return res.rows[0]!;
}

/** Expired leases, oldest first, locked for this transaction; rows another sweeper holds are skipped. */
export async function lockExpiredLeases(db: Queryable, limit: number): Promise<ProductRow[]> {
  const res = await db.query<ProductRow>(
    `SELECT * FROM products
      WHERE lease_token IS NOT NULL AND lease_expires_at < now()
      ORDER BY lease_expires_at
      LIMIT $1
      FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return res.rows;
}

/**
 * Clears the move-mode cleanup marker once the source is gone and writes the `source_removed`
 * event, in one statement; false when there was no marker to clear (nothing written).
 */
export async function markSourceRemoved(db: Queryable, id: number, ev: { worker: string }): Promise<boolean> {
  const res = await db.query(
    `WITH m AS (
       UPDATE products SET next_attempt_at = NULL
        WHERE id = $1 AND status = 'published' AND next_attempt_at IS NOT NULL
        RETURNING id, data_id, publish_attempts
     )
     INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, worker)
     SELECT id, data_id, 'source_removed', publish_attempts, 'published', 'published', $2 FROM m`,
    [id, ev.worker],
  );
  return res.rowCount === 1;
}

/** A due row as the reconciler needs it. */
export interface DueRow {
  id: number;
  data_id: string;
  status: string;
  next_attempt_at: Date;
}

/**
 * One keyset page of products that should be in the queue now: staging or publishing rows whose
 * next_attempt_at has passed (products_due_idx), in (next_attempt_at, id) order.
 */
export async function listDueProducts(db: Queryable, after: { at: Date; id: number } | undefined, limit: number): Promise<DueRow[]> {
  // Two statements rather than an OR, so the planner can use the index range for the keyset.
  const keyset = after ? 'AND (next_attempt_at, id) > ($2::timestamptz, $3::bigint)' : '';
  const res = await db.query<DueRow>(
    `SELECT id, data_id, status, next_attempt_at FROM products
      WHERE status IN ('staging', 'publishing') AND next_attempt_at <= now() ${keyset}
      ORDER BY next_attempt_at, id
      LIMIT $1`,
    after ? [limit, after.at, after.id] : [limit],
  );
  return res.rows;
}

/** Published move-mode products whose source removal has not been confirmed (products_cleanup_idx). */
export async function listPendingSourceCleanups(db: Queryable, olderThanSeconds: number, limit: number): Promise<DueRow[]> {
  const res = await db.query<DueRow>(
    `SELECT id, data_id, status, next_attempt_at FROM products
      WHERE status = 'published' AND next_attempt_at IS NOT NULL AND next_attempt_at < now() - make_interval(secs => $1)
      ORDER BY next_attempt_at
      LIMIT $2`,
    [olderThanSeconds, limit],
  );
  return res.rows;
}

/** Which of these lease tokens a row still holds. */
export async function heldLeaseTokens(db: Queryable, tokens: string[]): Promise<Set<string>> {
  if (tokens.length === 0) return new Set();
  const res = await db.query<{ lease_token: string }>(`SELECT lease_token FROM products WHERE lease_token = ANY($1::uuid[])`, [tokens]);
  return new Set(res.rows.map((r) => r.lease_token));
}

/** What a type's validators found, stored with the product when it is validated. */
export interface ValidatedFields {
  extracted: Record<string, unknown> | null;
  obs_start: string | null;
  obs_end: string | null;
  ra_deg: number | null;
  dec_deg: number | null;
  freq_hz: number | null;
}

/**
 * Records that the staged source passed its type's validators: the extracted metadata on the row
 * and a `validated` event (publishing → publishing), in one statement, only while the row holds
 * this lease. False when the lease is no longer held (nothing written).
 */
export async function markValidated(db: Queryable, id: number, token: string, f: ValidatedFields, ev: { attempt: number; worker: string }): Promise<boolean> {
  const res = await db.query(
    `WITH v AS (
       UPDATE products
          SET extracted = $3::jsonb, obs_start = $4, obs_end = $5, ra_deg = $6, dec_deg = $7, freq_hz = $8, updated_at = now()
        WHERE id = $1 AND lease_token = $2 AND status = 'publishing'
        RETURNING id, data_id
     )
     INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, worker)
     SELECT id, data_id, 'validated', $9, 'publishing', 'publishing', $10 FROM v`,
    [id, token, f.extracted === null ? null : JSON.stringify(f.extracted), f.obs_start, f.obs_end, f.ra_deg, f.dec_deg, f.freq_hz, ev.attempt, ev.worker],
  );
  return res.rowCount === 1;
}

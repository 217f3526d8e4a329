import type { Queryable } from '../../db/pool';
import { prepared } from '../../db/prepared';
import { productColumns, type ManifestEntry, type ProductRow } from '../product.types';
import { pausedCondition } from '../publishing-control.repository';
import { eventInsert, leaseExpired } from './event-insert';

/** The lease a claim starts. */
export interface NewLease {
  token: string;
  owner: string;
  seconds: number;
}

/** Which row a claim takes: a due `staging` row by data_id (one statement), or a row the caller locked. */
export type ClaimTarget = { dataId: string; dueBy: Date } | { id: number };

// The columns a lease's end resets.
const NO_LEASE = 'lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()';

/**
 * Which due small products a group claim takes: `dataId` (the job in hand) when it is a due,
 * unpaused `staging` file of at most `maxBytes`, and then up to `limit - 1` more like it, oldest
 * due first; without `dataId` (a drain: the job in hand is done, and others are still due), the
 * `limit` oldest due. Rows another claim has locked are skipped, not waited for.
 */
export interface GroupClaimTarget {
  group: { dataId?: string; dueBy: Date; maxBytes: number; limit: number };
}

// Claims leave products of a paused service or data type alone: the pause is part of every claim
// statement, so a claim racing a pause either commits first (its copy runs and finishes) or sees it.
const notPaused = `NOT ${pausedCondition('products.data_type')}`;

// A row a group may take: due, unheld, a small file, not paused. Which files are small is also
// decided in TypeScript (isGroupable in publish-dispatch.ts); group-rule.test.ts holds the two equal.
const groupMember = (dueBy: string, maxBytes: string) => `status = 'staging' AND NOT held AND next_attempt_at <= ${dueBy} AND kind = 'file'
  AND size_bytes <= ${maxBytes} AND ${notPaused}`;

/**
 * True when `dataId` is, right now, a product a group claim would take (no lock, nothing written):
 * lets a job whose product is already claimed or published skip the group claim's turn.
 */
export async function isGroupCandidate(db: Queryable, g: Omit<GroupClaimTarget['group'], 'limit'>): Promise<boolean> {
  const res = await db.query(prepared(`SELECT 1 FROM products WHERE data_id = $1 AND ${groupMember('$2', '$3')}`, [g.dataId, g.dueBy, g.maxBytes]));
  return res.rowCount === 1;
}

/**
 * staging → publishing, `claimed`: a fresh lease (token, owner, expiry), the attempt counted.
 * undefined when the row is missing, not in `staging`, held, (by data_id) not yet due, or paused. A group
 * target claims every member in one statement, each with its own lease token and `claimed` event,
 * and returns the rows, the named product first (none when it is named and not a member).
 */
export async function recordClaimed(db: Queryable, target: ClaimTarget, lease: NewLease): Promise<ProductRow | undefined>;
export async function recordClaimed(db: Queryable, target: GroupClaimTarget, lease: Omit<NewLease, 'token'>): Promise<ProductRow[]>;
export async function recordClaimed(db: Queryable, target: ClaimTarget | GroupClaimTarget, lease: NewLease | Omit<NewLease, 'token'>): Promise<ProductRow | ProductRow[] | undefined> {
  // The same lease columns either way; a group's tokens come from PostgreSQL, one per row.
  const leaseColumns = `lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
              due_at = NULL, publish_attempts = publish_attempts + 1, updated_at = now()`;
  if ('group' in target) {
    const g = target.group;
    const res = await db.query<ProductRow>(prepared(
      `WITH own AS (
         SELECT id FROM products WHERE data_id = $1 AND ${groupMember('$4', '$5')} FOR UPDATE SKIP LOCKED
       ), others AS (
         SELECT id FROM products WHERE data_id IS DISTINCT FROM $1 AND ${groupMember('$4', '$5')} AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM own))
          ORDER BY next_attempt_at, id LIMIT $6 FOR UPDATE SKIP LOCKED
       ), c AS (
         UPDATE products SET status = 'publishing', lease_token = gen_random_uuid(), ${leaseColumns}
          WHERE id IN (SELECT id FROM own UNION ALL SELECT id FROM others)
          RETURNING *
       ), e AS (${eventInsert('claimed', 'c', { attempt: 'publish_attempts', worker: '$2' })})
       SELECT ${productColumns()} FROM c ORDER BY data_id = $1 DESC NULLS LAST, id`,
      [g.dataId ?? null, lease.owner, lease.seconds, g.dueBy, g.maxBytes, g.dataId === undefined ? g.limit : Math.max(0, g.limit - 1)],
    ));
    return res.rows;
  }
  const token = (lease as NewLease).token;
  const where = 'id' in target
    ? `id = $4 AND status = 'staging' AND ${notPaused}`
    : `data_id = $4 AND status = 'staging' AND NOT held AND COALESCE(due_at, '-infinity') <= $5 AND ${notPaused}`;
  const res = await db.query<ProductRow>(prepared(
    `WITH c AS (
       UPDATE products
          SET status = 'publishing', lease_token = $1, ${leaseColumns}
        WHERE ${where}
        RETURNING *
     ), e AS (${eventInsert('claimed', 'c', { attempt: 'publish_attempts', worker: '$2' })})
     SELECT ${productColumns()} FROM c`,
    'id' in target ? [token, lease.owner, lease.seconds, target.id] : [token, lease.owner, lease.seconds, target.dataId, target.dueBy],
  ));
  return res.rows[0];
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
 * publishing → publishing, `validated`: the staged source passed its type's validators before the
 * copy; what they extracted is stored on the row in the same statement. undefined when the row no
 * longer holds this lease (nothing written).
 */
export async function recordValidated(db: Queryable, id: number, token: string, f: ValidatedFields, ev: { attempt: number; worker: string }): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(
    `WITH v AS (
       UPDATE products
          SET extracted = $3::jsonb, obs_start = $4, obs_end = $5, ra_deg = $6, dec_deg = $7, freq_hz = $8, updated_at = now()
        WHERE id = $1 AND lease_token = $2 AND status = 'publishing'
        RETURNING *
     ), e AS (${eventInsert('validated', 'v', { attempt: '$9', worker: '$10' })})
     SELECT ${productColumns()} FROM v`,
    [id, token, f.extracted === null ? null : JSON.stringify(f.extracted), f.obs_start, f.obs_end, f.ra_deg, f.dec_deg, f.freq_hz, ev.attempt, ev.worker],
  ));
  return res.rows[0];
}

/** Why and by whom a lease ended. */
export interface LeaseEnd {
  error: string;
  worker: string;
}

/**
 * publishing → staging, `lease_reclaimed`: an expired lease (by `now`) is taken back from a dead
 * or stalled worker; due at once, the attempt stays counted. undefined when the row no longer
 * holds that token or the lease has not expired.
 */
export async function recordLeaseReclaimed(db: Queryable, id: number, token: string, now: Date, end: LeaseEnd): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(
    `WITH r AS (
       UPDATE products SET status = 'staging', due_at = now(), publish_error = $4, error_class = 'lease_expired', ${NO_LEASE}
        WHERE id = $1 AND lease_token = $2 AND status = 'publishing' AND ${leaseExpired('$3')}
        RETURNING *
     ), e AS (${eventInsert('lease_reclaimed', 'r', { attempt: 'publish_attempts', errorClass: `'lease_expired'`, error: '$4', worker: '$5' })})
     SELECT ${productColumns()} FROM r`,
    [id, token, now, end.error, end.worker],
  ));
  return res.rows[0];
}

/**
 * publishing → staging, `lease_released`: a worker shutting down gives the product back, due now,
 * with the attempt refunded (a deploy is not the product's fault). undefined when the lease was lost.
 */
export async function recordLeaseReleased(db: Queryable, id: number, token: string, end: LeaseEnd): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(
    `WITH old AS (SELECT id, publish_attempts FROM products WHERE id = $1 AND lease_token = $2 AND status = 'publishing' FOR UPDATE),
     r AS (
       UPDATE products p SET status = 'staging', due_at = now(), publish_error = NULL, error_class = NULL,
              publish_attempts = GREATEST(p.publish_attempts - 1, 0), ${NO_LEASE}
         FROM old WHERE p.id = old.id
       RETURNING p.*, old.publish_attempts AS attempt_before
     ), e AS (${eventInsert('lease_released', 'r', { attempt: 'attempt_before', errorClass: `'shutdown'`, error: '$3', worker: '$4' })})
     SELECT ${productColumns()} FROM r`,
    [id, token, end.error, end.worker],
  ));
  return res.rows[0];
}

/** A failed attempt as the event log keeps it. */
export interface AttemptFailure extends LeaseEnd {
  errorClass: string;
}

/** publishing → staging, `retry_scheduled`: the attempt failed and the product is due again at `dueAt`. */
export async function recordRetryScheduled(db: Queryable, id: number, token: string, dueAt: Date, f: AttemptFailure): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(
    `WITH r AS (
       UPDATE products SET status = 'staging', due_at = $3, publish_error = $4, error_class = $5, ${NO_LEASE}
        WHERE id = $1 AND lease_token = $2 AND status = 'publishing'
        RETURNING *
     ), e AS (${eventInsert('retry_scheduled', 'r', { attempt: 'publish_attempts', errorClass: '$5', error: '$4', worker: '$6' })})
     SELECT ${productColumns()} FROM r`,
    [id, token, dueAt, f.error, f.errorClass, f.worker],
  ));
  return res.rows[0];
}

/**
 * publishing → failed, `failed`: terminal until an operator retries. With `expiredBy`, only when the
 * lease has expired by then (a dead worker's product that used its last attempt). undefined when
 * the row no longer holds that token (or its lease has not expired).
 */
export async function recordFailed(db: Queryable, id: number, token: string, f: AttemptFailure & { expiredBy?: Date }): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(
    `WITH r AS (
       UPDATE products SET status = 'failed', due_at = NULL, publish_error = $3, error_class = $4, ${NO_LEASE}
        WHERE id = $1 AND lease_token = $2 AND status = 'publishing' AND ($6::timestamptz IS NULL OR ${leaseExpired('$6')})
        RETURNING *
     ), e AS (${eventInsert('failed', 'r', { attempt: 'publish_attempts', errorClass: '$4', error: '$3', worker: '$5' })})
     SELECT ${productColumns()} FROM r`,
    [id, token, f.error, f.errorClass, f.worker, f.expiredBy ?? null],
  ));
  return res.rows[0];
}

export interface PublishedFields {
  published_path: string;
  size_bytes: number;
  file_count: number;
  checksum_sha256: string;
  manifest: ManifestEntry[] | null;
  /** Move mode: the source still has to be removed (source_removal_pending until it is). */
  source_cleanup_pending: boolean;
}

/** Who committed a publish, for its `published` event. */
export interface PublishedEvent {
  attempt: number;
  durationMs: number;
  worker: string;
}

/** One product of a group's commit: its row, the lease it must still hold, what was published and its attempt. */
export interface PublishedCommit {
  id: number;
  token: string;
  fields: PublishedFields;
  attempt: number;
}

/**
 * publishing → published, `published`: the commit, only where the row still holds this lease
 * token, in one statement (atomic, one round trip). undefined when the lease is no longer held.
 * A group's commits go in one statement, each product with its own fields, lease check and
 * event; the rows whose lease still held come back (in no particular order), the others are
 * left unchanged.
 */
export async function recordPublished(db: Queryable, id: number, token: string, f: PublishedFields, ev: PublishedEvent): Promise<ProductRow | undefined>;
export async function recordPublished(db: Queryable, commits: readonly PublishedCommit[], ev: Omit<PublishedEvent, 'attempt'>): Promise<ProductRow[]>;
export async function recordPublished(
  db: Queryable, ...args: [number, string, PublishedFields, PublishedEvent] | [readonly PublishedCommit[], Omit<PublishedEvent, 'attempt'>]
): Promise<ProductRow | undefined | ProductRow[]> {
  const [commits, ev] = args.length === 4
    ? [[{ id: args[0], token: args[1], fields: args[2], attempt: args[3].attempt }], args[3]] as const
    : args;
  if (commits.length === 0) return [];
  const f = (pick: (c: PublishedCommit) => unknown) => commits.map(pick);
  const res = await db.query<ProductRow>(prepared(
    `WITH v AS (
       SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::integer[], $6::text[], $7::jsonb[], $8::boolean[], $9::integer[])
         AS v(id, token, published_path, size_bytes, file_count, checksum_sha256, manifest, source_removal_pending, attempt)
     ), p AS (
       UPDATE products p
          SET status = 'published', published_path = v.published_path, size_bytes = v.size_bytes, file_count = v.file_count,
              checksum_sha256 = v.checksum_sha256, manifest = v.manifest, published_at = now(),
              source_removal_pending = v.source_removal_pending, due_at = NULL, publish_error = NULL, error_class = NULL, ${NO_LEASE}
         FROM v
        WHERE p.id = v.id AND p.lease_token = v.token AND p.status = 'publishing'
       RETURNING p.*
     ), e AS (${eventInsert('published', '(SELECT p.id, p.data_id, p.size_bytes, v.attempt FROM p JOIN v ON v.id = p.id ORDER BY p.id) p', {
       attempt: 'attempt', bytes: 'size_bytes', durationMs: '$10', worker: '$11',
     })})
     SELECT ${productColumns()} FROM p`,
    [f((c) => c.id), f((c) => c.token), f((c) => c.fields.published_path), f((c) => c.fields.size_bytes), f((c) => c.fields.file_count),
      f((c) => c.fields.checksum_sha256), f((c) => (c.fields.manifest === null ? null : JSON.stringify(c.fields.manifest))),
      f((c) => c.fields.source_cleanup_pending), f((c) => c.attempt), Math.round(ev.durationMs), ev.worker],
  ));
  return args.length === 4 ? res.rows[0] : res.rows;
}

/**
 * published → published, `source_removed`: clears the move-mode cleanup marker once the source is
 * gone; false when there was no marker to clear (nothing written). A group's markers go in one
 * statement, each product with its own event; the ids whose marker was cleared come back.
 */
export async function recordSourceRemoved(db: Queryable, id: number, ev: { worker: string }): Promise<boolean>;
export async function recordSourceRemoved(db: Queryable, ids: readonly number[], ev: { worker: string }): Promise<number[]>;
export async function recordSourceRemoved(db: Queryable, idOrIds: number | readonly number[], ev: { worker: string }): Promise<boolean | number[]> {
  const ids = typeof idOrIds === 'number' ? [idOrIds] : idOrIds;
  const res = ids.length === 0 ? { rows: [] } : await db.query<{ id: number }>(prepared(
    `WITH m AS (
       UPDATE products SET source_removal_pending = false
        WHERE id = ANY($1::bigint[]) AND status = 'published' AND source_removal_pending
        RETURNING id, data_id, publish_attempts
     ), e AS (${eventInsert('source_removed', '(SELECT * FROM m ORDER BY id) m', { attempt: 'publish_attempts', worker: '$2' })})
     SELECT id FROM m`,
    [ids, ev.worker],
  ));
  return typeof idOrIds === 'number' ? res.rows.length === 1 : res.rows.map((r) => r.id);
}

/** Expired leases (by `now`), oldest first, locked for this transaction; rows another sweeper holds are skipped. */
export async function lockExpiredLeases(db: Queryable, now: Date, limit: number): Promise<ProductRow[]> {
  const res = await db.query<ProductRow>(
    `SELECT * FROM products WHERE ${leaseExpired('$1')} ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return res.rows;
}

import type { Queryable } from '../db/pool';
import { prepared } from '../db/prepared';
import type { ProductRow } from './product.types';

/** Pushes the lease expiry forward; false when the row no longer holds this token. */
export async function extendLease(db: Queryable, id: number, token: string, leaseSeconds: number): Promise<boolean> {
  const res = await db.query(prepared(
    `UPDATE products SET lease_expires_at = now() + make_interval(secs => $3)
      WHERE id = $1 AND lease_token = $2 AND status = 'publishing'`,
    [id, token, leaseSeconds],
  ));
  return res.rowCount === 1;
}

/**
 * The last check before copies become visible: the ids of the rows that still hold their token,
 * with at least half the lease length left when this returns. Only a lease with less than that
 * left is pushed forward (a slow durability step); a fresh one (a group of small files finishes
 * well within a lease) is read, not rewritten. Extending every lease here wrote a new row version
 * of each product, with an entry in every one of the table's indexes: about a kilobyte of WAL per
 * product for a check (docs/performance.md, eighth pass). A lease with half its length left cannot
 * expire, or be reclaimed, before the commit that follows, as an extended one could not.
 */
export async function confirmLeases(db: Queryable, leases: ReadonlyArray<{ id: number; token: string }>, leaseSeconds: number): Promise<Set<number>> {
  if (leases.length === 0) return new Set();
  // The UPDATE's effects are not visible to the outer SELECT (it reads the statement's snapshot),
  // so a row is counted once: by the SELECT when it had half a lease left, else by the UPDATE,
  // which re-checks its token against the row as it is now.
  const res = await db.query<{ id: string | number }>(prepared(
    `WITH l AS (SELECT * FROM unnest($1::bigint[], $2::uuid[]) AS l(id, token)),
     extended AS (
       UPDATE products p
          SET lease_expires_at = now() + make_interval(secs => $3::float8)
         FROM l
        WHERE p.id = l.id AND p.lease_token = l.token AND p.status = 'publishing'
          AND p.lease_expires_at < now() + make_interval(secs => $3::float8 / 2)
        RETURNING p.id
     )
     SELECT p.id FROM products p JOIN l ON p.id = l.id AND p.lease_token = l.token
      WHERE p.status = 'publishing' AND p.lease_expires_at >= now() + make_interval(secs => $3::float8 / 2)
     UNION ALL
     SELECT id FROM extended`,
    [leases.map((l) => l.id), leases.map((l) => l.token), leaseSeconds],
  ));
  return new Set(res.rows.map((r) => Number(r.id)));
}

/** Locks the row if (and only if) it still holds this lease. */
export async function lockLeasedProduct(db: Queryable, id: number, token: string): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `SELECT * FROM products WHERE id = $1 AND lease_token = $2 AND status = 'publishing' FOR UPDATE`,
    [id, token],
  );
  return res.rows[0];
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
 * next_attempt_at has passed (products_due_idx), in (next_attempt_at, id) order. next_attempt_at is
 * derived from due_at, held and lease_expires_at (a generated column): a dead worker's product
 * becomes due exactly when its lease runs out.
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
      WHERE status = 'published' AND source_removal_pending AND published_at < now() - make_interval(secs => $1)
      ORDER BY published_at
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

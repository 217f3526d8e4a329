import type { Queryable } from '../db/pool';
import { prepared } from '../db/prepared';
import { productColumns, type ProductRow, type ProductKind, type ProductStatus } from './product.types';

export interface NewProduct {
  data_id: string;
  data_type: string;
  stage_path: string;
  destination_path: string;
  kind: ProductKind;
  size_bytes: number;
  file_count: number;
  expected_sha256: string | null;
  metadata: Record<string, unknown>;
  /** False holds the product until a publish request; default true. */
  due?: boolean;
  /** data_id of the product this one corrects (checked by the caller); null for none. */
  supersedes?: string | null;
}

/** The product with this data_id, or undefined. */
export async function findProductByDataId(db: Queryable, dataId: string): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(`SELECT ${productColumns()} FROM products WHERE data_id = $1`, [dataId]));
  return res.rows[0];
}

/**
 * The products with these data_ids (those that exist), in one query: one probe of the data_id
 * index per id. Written as a lateral look-up because the prepared `data_id = ANY($1)` keeps the
 * plan made while the table was young, a sequential scan, as it grows (about 1 ms a call at
 * 5,000 products, against 0.05 ms for this).
 */
export async function findProductsByDataIds(db: Queryable, dataIds: readonly string[]): Promise<ProductRow[]> {
  if (dataIds.length === 0) return [];
  const res = await db.query<ProductRow>(prepared(
    `SELECT p.* FROM unnest($1::text[]) AS k(data_id)
       CROSS JOIN LATERAL (SELECT ${productColumns()} FROM products WHERE data_id = k.data_id LIMIT 1) p`,
    [dataIds],
  ));
  return res.rows;
}

/** Like findProductByDataId, locking the row for the rest of the transaction. */
export async function lockProductByDataId(db: Queryable, dataId: string): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(prepared(`SELECT ${productColumns()} FROM products WHERE data_id = $1 FOR UPDATE`, [dataId]));
  return res.rows[0];
}

/** The data_id of the product registered as superseding `dataId` (at most one: a unique index), if any. */
export async function findSupersedingDataId(db: Queryable, dataId: string): Promise<string | undefined> {
  const res = await db.query<{ data_id: string }>('SELECT data_id FROM products WHERE supersedes = $1', [dataId]);
  return res.rows[0]?.data_id;
}

/** A registration's destination and data_id, the keys its locks and checks are about. */
export interface RegistrationKey {
  dest: string;
  dataId: string;
}

/**
 * Transaction-scoped advisory locks that serialise registrations which could collide, and only
 * those: shared on every ancestor of each `dest`, exclusive on `dest` itself and on the data_id. A
 * destination and one nested in it (or an equal one) always meet on one key, one of them
 * exclusive; unrelated destinations share only shared locks and proceed in parallel. A batch
 * takes every product's keys in this one statement (a key some product needs exclusive is taken
 * exclusive), in ascending order like a single registration, so no two registrations, batch or
 * single, can deadlock on them.
 */
export async function lockDestinations(db: Queryable, keys: readonly RegistrationKey[]): Promise<void> {
  const { paths, self: exclusive } = flattenAncestors(keys.map((k) => k.dest));
  await db.query(prepared(
    `SELECT count(CASE WHEN l.exclusive THEN pg_advisory_xact_lock(l.key) ELSE pg_advisory_xact_lock_shared(l.key) END)
       FROM (SELECT k.key, bool_or(k.exclusive) AS exclusive
               FROM (SELECT hashtextextended(p, 0) AS key, x AS exclusive FROM unnest($1::text[], $2::boolean[]) AS u(p, x)
                     UNION ALL SELECT hashtextextended(d, 1), true FROM unnest($3::text[]) AS d) k
              GROUP BY k.key
              ORDER BY k.key) l`,
    [paths, exclusive, keys.map((k) => k.dataId)],
  ));
}

/** The advisory lock key of bulk state changes (a fixed value no hashtextextended key is likely to meet). */
const BULK_STATE_CHANGES_KEY = 0x6665727279627573n;

/**
 * Serialises the transactions that change the state of many products at once (batch
 * registrations, group claims and group commits), until the caller's transaction ends. It once
 * kept them from deadlocking on the status counters, which a statement now takes in key order;
 * it stays because taking turns is faster: run together on the 2-core bench machine, 5,000 small
 * products in batches went at 793 and 685/s against 865 and 700/s, each statement slower
 * (docs/performance.md, tenth pass).
 */
export async function lockBulkStateChanges(db: Queryable): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1::bigint)', [BULK_STATE_CHANGES_KEY.toString()]);
}

/**
 * A product whose destination equals `dest`, contains it, or lies inside it — two such products
 * would publish over one another. Uses the text_pattern_ops index for the "inside" case.
 */
export async function findDestinationOverlap(db: Queryable, dest: string): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `SELECT * FROM products
      WHERE destination_path = ANY($1::text[])
         OR ${nestedUnder('destination_path', '$2::text')}
      LIMIT 1`,
    [destinationAncestors(dest), dest],
  );
  return res.rows[0];
}

/** The destination and each of its ancestors: 'a', 'a/b', 'a/b/c' for 'a/b/c'. */
export function destinationAncestors(dest: string): string[] {
  const parts = dest.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Every destination's ancestors (itself last) in parallel arrays for `unnest` in SQL, since the
 * destinations' lists differ in length: each path, the position of its destination in `dests`,
 * and whether it is that destination itself.
 */
export function flattenAncestors(dests: readonly string[]): { paths: string[]; of: number[]; self: boolean[] } {
  const out = { paths: [] as string[], of: [] as number[], self: [] as boolean[] };
  dests.forEach((dest, i) => {
    const ancestors = destinationAncestors(dest);
    ancestors.forEach((p, k) => {
      out.paths.push(p);
      out.of.push(i);
      out.self.push(k === ancestors.length - 1);
    });
  });
  return out;
}

/**
 * SQL: the path `col` lies inside the destination `dest` (both SQL text expressions), written as
 * a range of the text_pattern_ops index, which serves a constant and a per-row `dest` (a batch's)
 * alike. '0' is the character after '/', so the range holds exactly the paths that start with
 * `dest` and '/', whatever characters (`%`, `_`) the path holds.
 */
export function nestedUnder(col: string, dest: string): string {
  return `(${col} ~>=~ (${dest} || '/') AND ${col} ~<~ (${dest} || '0'))`;
}

/** What stands in a batch's way, read once under its locks: see findRegistrationObstacles. */
export interface RegistrationObstacles {
  /** Products already holding one of the batch's data_ids. */
  byDataId: Map<string, ProductRow>;
  /** For each key's position in the batch, one product whose destination overlaps its destination. */
  overlapping: Map<number, ProductRow>;
}

/**
 * One statement for a whole batch: the products holding any of its data_ids, and for each of its
 * destinations one product (if any) at the same path, at an ancestor, or inside it — what
 * findProductByDataId and findDestinationOverlap would find for each product, through the same
 * indexes.
 */
export async function findRegistrationObstacles(db: Queryable, keys: readonly RegistrationKey[]): Promise<RegistrationObstacles> {
  const { paths, of } = flattenAncestors(keys.map((k) => k.dest));
  const res = await db.query<ProductRow & { obstacle_for: number | null }>(
    `SELECT NULL::integer AS obstacle_for, p.* FROM products p WHERE p.data_id = ANY($1::text[])
     UNION ALL
     SELECT a.ord, p.* FROM unnest($2::integer[], $3::text[]) AS a(ord, path) JOIN products p ON p.destination_path = a.path
     UNION ALL
     SELECT d.ord - 1, p.* FROM unnest($4::text[]) WITH ORDINALITY AS d(dest, ord)
      CROSS JOIN LATERAL (SELECT * FROM products WHERE ${nestedUnder('destination_path', 'd.dest')} LIMIT 1) p`,
    [keys.map((k) => k.dataId), of, paths, keys.map((k) => k.dest)],
  );
  const found: RegistrationObstacles = { byDataId: new Map(), overlapping: new Map() };
  for (const { obstacle_for: at, ...row } of res.rows) {
    if (at === null) found.byDataId.set(row.data_id, row);
    else if (!found.overlapping.has(at)) found.overlapping.set(at, row);
  }
  return found;
}

export interface ProductListFilter {
  status?: ProductStatus;
  data_type?: string;
  created_since?: Date;
  created_until?: Date;
  /** Keyset position: rows strictly after (created_at, id); created_at as exact text keeps microseconds. */
  after?: { created_at: Date | string; id: number };
  limit: number;
}

/** A listed row plus its created_at to the microsecond (a JS Date keeps only milliseconds), for cursors. */
export type ListedProductRow = ProductRow & { created_at_exact: string };

/** One page of products ordered by (created_at, id); keyset pagination keeps every page cheap. */
export async function listProducts(db: Queryable, f: ProductListFilter): Promise<ListedProductRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.status) where.push(`status = ${arg(f.status)}`);
  if (f.data_type) where.push(`data_type = ${arg(f.data_type)}`);
  if (f.created_since) where.push(`created_at >= ${arg(f.created_since)}`);
  if (f.created_until) where.push(`created_at < ${arg(f.created_until)}`);
  if (f.after) where.push(`(created_at, id) > (${arg(f.after.created_at)}::timestamptz, ${arg(f.after.id)})`);
  // Every column but the manifest, which can hold a row per file of a directory product: pages stay small.
  const sql = `SELECT id, data_id, data_type, stage_path, destination_path, published_path, kind, status, size_bytes, file_count,
                      checksum_sha256, NULL::jsonb AS manifest, expected_sha256, publish_attempts, publish_error, error_class,
                      lease_token, lease_owner, lease_expires_at, metadata, created_at, staged_at, published_at, updated_at,
                      due_at, held, source_removal_pending, next_attempt_at, retracted_path, supersedes, file_action_pending, extracted, obs_start, obs_end, ra_deg, dec_deg, freq_hz,
                      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_exact
                 FROM products ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
               ORDER BY created_at, id LIMIT ${arg(f.limit)}`;
  return (await db.query<ListedProductRow>(sql, args)).rows;
}

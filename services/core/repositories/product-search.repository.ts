import type { Queryable } from '../db/pool';
import type { ManifestEntry, ProductStatus } from './product.types';

/** The console's products filter; every field optional, all of them combined with AND. */
export interface ProductSearch {
  status?: ProductStatus;
  data_type?: string;
  error_class?: string;
  created_since?: Date;
  created_until?: Date;
  /** data_id starts with this (LIKE wildcards in it are literal). */
  data_id_prefix?: string;
  /** metadata contains this object (jsonb @>), e.g. {"field": "3C286"}. */
  metadata?: Record<string, string>;
  /** Keyset position: rows strictly before (created_at, id) in newest-first order. */
  before?: { created_at: string; id: number };
  limit: number;
}

/** The columns a products table row shows. */
export interface ProductSummaryRow {
  id: number;
  data_id: string;
  data_type: string;
  status: ProductStatus;
  size_bytes: number | null;
  file_count: number | null;
  publish_attempts: number;
  error_class: string | null;
  held: boolean;
  created_at: Date;
  updated_at: Date;
  /** created_at to the microsecond, for the cursor. */
  created_at_exact: string;
}

const SUMMARY_COLUMNS = `id, data_id, data_type, status, size_bytes, file_count, publish_attempts, error_class, held,
  created_at, updated_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_exact`;

/**
 * How many of the newest rows (after the other filters) a data_id prefix search looks through
 * before it takes its candidates from the prefix index instead: twenty pages of 50.
 */
export const PREFIX_RECENT_WINDOW = 1000;

/**
 * One page of products, newest first, in (created_at, id) keyset order: each filter has an index
 * (status, data_type, error_class: composite with created_at; metadata: GIN), so a page stays a
 * bounded index range at a million rows. A data_id prefix has its own statement (prefixPageSql).
 */
export async function searchProducts(db: Queryable, f: ProductSearch): Promise<ProductSummaryRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.status) where.push(`status = ${arg(f.status)}`);
  if (f.data_type) where.push(`data_type = ${arg(f.data_type)}`);
  if (f.error_class) where.push(`error_class = ${arg(f.error_class)}`);
  if (f.created_since) where.push(`created_at >= ${arg(f.created_since)}`);
  if (f.created_until) where.push(`created_at < ${arg(f.created_until)}`);
  if (f.metadata && Object.keys(f.metadata).length) where.push(`metadata @> ${arg(JSON.stringify(f.metadata))}::jsonb`);
  if (f.before) where.push(`(created_at, id) < (${arg(f.before.created_at)}::timestamptz, ${arg(f.before.id)})`);
  const limit = arg(f.limit);
  const sql = f.data_id_prefix
    ? prefixPageSql(where, arg(`${f.data_id_prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`), limit)
    : `SELECT ${SUMMARY_COLUMNS} FROM products ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
  return (await db.query<ProductSummaryRow>(sql, args)).rows;
}

/**
 * The page of a data_id prefix search, the same rows in the same order as filtering the
 * newest-first scan, at a cost bounded whatever the prefix and wherever its matches sit in time.
 * Walking newest first and filtering is quick when matches are frequent among the newest rows,
 * and unbounded when they are old (ids that embed a counter or a date): `seed-12` walked past
 * 870,000 newer rows at 1,000,000 products. Taking every match from the prefix index and sorting
 * is quick for a narrow prefix and unbounded for a broad one. So the statement does both in turn:
 * it looks through the newest PREFIX_RECENT_WINDOW rows first, and that answers the page when
 * they hold a whole page of matches (no older match can come before them) or are all the rows
 * there are; otherwise, and only then (a one-time filter), the matches are read from the prefix
 * index (index-only: it carries created_at and id, so the time range and keyset apply there too)
 * and the newest of them make the page. The fence (MATERIALIZED) keeps the planner from turning
 * that back into the newest-first walk, which its estimates would favour.
 */
function prefixPageSql(where: string[], pattern: string, limit: string): string {
  const filters = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const prefix = `data_id LIKE ${pattern} ESCAPE '\\'`;
  return `WITH recent AS (
      SELECT id, created_at, data_id FROM products ${filters} ORDER BY created_at DESC, id DESC LIMIT ${PREFIX_RECENT_WINDOW}
    ), recent_page AS (
      SELECT id, created_at FROM recent WHERE ${prefix} ORDER BY created_at DESC, id DESC LIMIT ${limit}
    ), settled AS (
      SELECT (SELECT count(*) FROM recent_page) = ${limit} OR (SELECT count(*) FROM recent) < ${PREFIX_RECENT_WINDOW} AS yes
    ), candidates AS MATERIALIZED (
      SELECT id, created_at FROM products WHERE ${[prefix, ...where].join(' AND ')} AND NOT (SELECT yes FROM settled)
    ), page AS (
      SELECT id FROM recent_page WHERE (SELECT yes FROM settled)
      UNION ALL
      (SELECT id FROM candidates ORDER BY created_at DESC, id DESC LIMIT ${limit})
    )
    SELECT ${SUMMARY_COLUMNS} FROM products WHERE id IN (SELECT id FROM page) ORDER BY created_at DESC, id DESC`;
}

/** Held products (registered with auto_publish false, or put on hold; waiting for a release), newest first. */
export async function listHeldProducts(db: Queryable, limit: number): Promise<ProductSummaryRow[]> {
  const res = await db.query<ProductSummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM products WHERE status = 'staging' AND held
      ORDER BY created_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return res.rows;
}

/** Failed products per error class: how many, and the newest one's message and time. */
export interface FailureGroupRow {
  error_class: string;
  count: number;
  newest_at: Date;
  newest_data_id: string;
  newest_error: string | null;
}

/** Failed products grouped by error class, the largest group first (the failed set is small and indexed on its own). */
export async function listFailureGroups(db: Queryable): Promise<FailureGroupRow[]> {
  const res = await db.query<FailureGroupRow>(
    `SELECT g.error_class, g.count, n.updated_at AS newest_at, n.data_id AS newest_data_id, n.publish_error AS newest_error
       FROM (SELECT COALESCE(error_class, 'unknown') AS error_class, count(*)::bigint AS count
               FROM products WHERE status = 'failed' GROUP BY 1) g
       CROSS JOIN LATERAL (SELECT data_id, publish_error, updated_at FROM products
                            WHERE status = 'failed' AND COALESCE(error_class, 'unknown') = g.error_class
                            ORDER BY updated_at DESC, id DESC LIMIT 1) n
      ORDER BY g.count DESC, g.error_class`,
  );
  return res.rows;
}

/** Failed products in the given error classes or with the given data_ids, newest failure first, at most `limit`. */
export async function listFailedSelection(
  db: Queryable,
  f: { error_classes: string[]; data_ids: string[]; limit: number },
): Promise<Array<{ data_id: string; data_type: string; error_class: string | null; publish_error: string | null; publish_attempts: number; updated_at: Date }>> {
  const res = await db.query(
    `SELECT data_id, data_type, error_class, publish_error, publish_attempts, updated_at FROM products
      WHERE status = 'failed' AND (COALESCE(error_class, 'unknown') = ANY($1::text[]) OR data_id = ANY($2::text[]))
      ORDER BY updated_at DESC, id DESC LIMIT $3`,
    [f.error_classes, f.data_ids, f.limit],
  );
  return res.rows as Array<{ data_id: string; data_type: string; error_class: string | null; publish_error: string | null; publish_attempts: number; updated_at: Date }>;
}

/** One page of a product's manifest (files in stored order) and the manifest's length. */
export async function manifestPage(db: Queryable, productId: number, offset: number, limit: number): Promise<{ total: number; entries: ManifestEntry[] }> {
  const res = await db.query<{ total: number; entries: ManifestEntry[] | null }>(
    `SELECT COALESCE(jsonb_array_length(manifest), 0) AS total,
            (SELECT jsonb_agg(e ORDER BY i) FROM jsonb_array_elements(p.manifest) WITH ORDINALITY AS m(e, i)
              WHERE i > $2 AND i <= $2 + $3) AS entries
       FROM products p WHERE id = $1`,
    [productId, offset, limit],
  );
  return { total: res.rows[0]?.total ?? 0, entries: res.rows[0]?.entries ?? [] };
}

/** Publishes and bytes per UTC hour since `since`, from the `published` events (time-indexed). */
export async function publishesPerHour(db: Queryable, since: Date): Promise<Array<{ hour: Date; publishes: number; bytes: number }>> {
  const res = await db.query<{ hour: Date; publishes: number; bytes: number }>(
    `SELECT date_trunc('hour', created_at) AS hour, count(*)::bigint AS publishes, COALESCE(sum(bytes), 0)::bigint AS bytes
       FROM product_events WHERE created_at >= $1 AND event = 'published'
      GROUP BY 1 ORDER BY 1`,
    [since],
  );
  return res.rows;
}

/** The oldest product waiting in staging for the worker (held ones excluded: they wait on purpose). */
export async function oldestStaged(db: Queryable): Promise<{ data_id: string; staged_at: Date } | undefined> {
  const res = await db.query<{ data_id: string; staged_at: Date }>(
    `SELECT data_id, staged_at FROM products WHERE status = 'staging' AND NOT held ORDER BY staged_at LIMIT 1`,
  );
  return res.rows[0];
}

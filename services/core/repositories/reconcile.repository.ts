import type { Queryable } from '../db/pool';
import { nestedUnder } from './product.repository';
import type { ProductRow } from './product.types';

/** What the drift report checks of a published product. */
export type PublishedRowFigures = Pick<ProductRow, 'id' | 'data_id' | 'created_at' | 'kind' | 'published_path' | 'destination_path' | 'size_bytes' | 'file_count'>;

/** One keyset page of published products in (created_at, id) order. */
export async function listPublishedPage(db: Queryable, after: { created_at: Date; id: number } | undefined, limit: number): Promise<PublishedRowFigures[]> {
  const res = await db.query<PublishedRowFigures>(
    `SELECT id, data_id, created_at, kind, published_path, destination_path, size_bytes, file_count FROM products
      WHERE status = 'published' ${after ? 'AND (created_at, id) > ($2, $3)' : ''}
      ORDER BY created_at, id LIMIT $1`,
    after ? [limit, after.created_at, after.id] : [limit],
  );
  return res.rows;
}

/** Which of these paths are some product's destination. */
export async function ownedDestinations(db: Queryable, paths: string[]): Promise<Set<string>> {
  const res = await db.query<{ destination_path: string }>('SELECT destination_path FROM products WHERE destination_path = ANY($1::text[])', [paths]);
  return new Set(res.rows.map((r) => r.destination_path));
}

/** Whether any product's destination lies inside this directory (products_destination_prefix_idx). */
export async function hasDestinationInside(db: Queryable, dir: string): Promise<boolean> {
  const res = await db.query(`SELECT 1 FROM products WHERE ${nestedUnder('destination_path', '$1::text')} LIMIT 1`, [dir]);
  return (res.rowCount ?? 0) > 0;
}

/** Which of these data_ids have a product row. */
export async function knownDataIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const res = await db.query<{ data_id: string }>('SELECT data_id FROM products WHERE data_id = ANY($1::text[])', [ids]);
  return new Set(res.rows.map((r) => r.data_id));
}

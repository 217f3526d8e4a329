import type { Queryable } from '../db/pool';
import type { ProductRow } from './product.types';

/** A published product as an audit needs it: where it lies, its size, digest and per-file manifest. */
export type ManifestRow = Pick<ProductRow, 'id' | 'data_id' | 'data_type' | 'kind' | 'published_path' | 'size_bytes' | 'file_count' | 'checksum_sha256' | 'manifest'> & {
  created_at_exact: string;
};

/** One page of published products with their manifests, in (created_at, id) keyset order (products_status_created_idx). */
export async function listPublishedManifests(
  db: Queryable,
  f: { data_type?: string; after?: { created_at: string; id: number }; limit: number },
): Promise<ManifestRow[]> {
  const res = await db.query<ManifestRow>(
    `SELECT id, data_id, data_type, kind, published_path, size_bytes, file_count, checksum_sha256, manifest,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_exact
       FROM products
      WHERE status = 'published' AND ($1::text IS NULL OR data_type = $1)
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::bigint))
      ORDER BY created_at, id LIMIT $4`,
    [f.data_type ?? null, f.after?.created_at ?? null, f.after?.id ?? 0, f.limit],
  );
  return res.rows;
}

import { listPublishedManifests, type ManifestRow } from '../../repositories/audit.repository';
import type { RegistryDeps } from '../registry-deps';
import { decodeCursor, encodeCursor } from './list-products';

export interface ManifestPage {
  products: Omit<ManifestRow, 'id' | 'created_at_exact'>[];
  next_cursor: string | null;
}

/**
 * Published products with everything an audit re-hashes against (path, size, digest, per-file
 * manifest), up to 500 per request: one request per page instead of one per product, so an audit
 * of the archive stays far below the proxy's rate limits.
 */
export async function listManifests(deps: Pick<RegistryDeps, 'pool'>, input: { data_type?: string; cursor?: string; limit: number }): Promise<ManifestPage> {
  const after = input.cursor ? decodeCursor(input.cursor) : undefined;
  const rows = await listPublishedManifests(deps.pool, { data_type: input.data_type, after, limit: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    products: page.map(({ id: _id, created_at_exact: _c, ...p }) => p),
    next_cursor: rows.length > input.limit && last ? encodeCursor(last) : null,
  };
}

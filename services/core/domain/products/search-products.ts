import { ValidationError } from '../../errors';
import type { ProductStatus } from '../../repositories/product.types';
import { searchProducts as searchRows, type Cone, type SkySearchRow } from '../../repositories/sky-search.repository';
import type { RegistryDeps } from '../registry-deps';

export interface SearchProductsInput {
  obs_since?: Date;
  obs_until?: Date;
  cone?: Cone;
  status?: ProductStatus;
  data_type?: string;
  cursor?: string;
  limit: number;
}

function encode(row: SkySearchRow): string {
  return Buffer.from(JSON.stringify({ o: row.obs_start_exact, i: row.id })).toString('base64url');
}

function decode(cursor: string): { obs_start: string; id: number } {
  try {
    const raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; i?: unknown };
    if (typeof raw.o === 'string' && !Number.isNaN(Date.parse(raw.o)) && Number.isSafeInteger(raw.i)) return { obs_start: raw.o, id: raw.i as number };
  } catch {
    // fall through to the refusal below
  }
  throw new ValidationError('invalid_cursor', 'cursor is not one this API issued: pass next_cursor from the previous page unchanged');
}

/**
 * Products by observation time range and cone (both optional, at least one given), in
 * (obs_start, id) order with keyset pages. Products without an observation time never match.
 */
export async function searchProducts(deps: Pick<RegistryDeps, 'pool'>, input: SearchProductsInput): Promise<{ products: SkySearchRow[]; next_cursor: string | null }> {
  if (!input.cone && !input.obs_since && !input.obs_until) {
    throw new ValidationError('search_unbounded', 'give a time range (obs_since, obs_until) or a cone (ra, dec, radius)');
  }
  if (input.obs_since && input.obs_until && input.obs_since > input.obs_until) {
    throw new ValidationError('validation_error', 'obs_since: must not be after obs_until');
  }
  const rows = await searchRows(deps.pool, {
    obsSince: input.obs_since, obsUntil: input.obs_until, cone: input.cone, status: input.status, data_type: input.data_type,
    after: input.cursor ? decode(input.cursor) : undefined, limit: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return { products: page, next_cursor: rows.length > input.limit && last ? encode(last) : null };
}

import { ValidationError } from '../../errors';
import { searchProducts as searchProductRows, type ProductSearch, type ProductSummaryRow } from '../../repositories/product-search.repository';
import { decodeCursor, encodeCursor } from '../products/list-products';
import type { RegistryDeps } from '../registry-deps';

export type ProductSearchInput = Omit<ProductSearch, 'before'> & { cursor?: string };

/** Parses `key=value` (the console's metadata search) into the object jsonb containment takes. */
export function parseMetadataFilter(text: string | undefined): Record<string, string> | undefined {
  if (!text?.trim()) return undefined;
  const at = text.indexOf('=');
  if (at <= 0) throw new ValidationError('invalid_metadata_filter', 'metadata: write it as key=value');
  return { [text.slice(0, at).trim()]: text.slice(at + 1).trim() };
}

/** One page of the console's products search, newest first; next_cursor is null on the last page. */
export async function searchProducts(
  deps: Pick<RegistryDeps, 'pool'>,
  input: ProductSearchInput,
): Promise<{ products: ProductSummaryRow[]; next_cursor: string | null }> {
  const before = input.cursor ? decodeCursor(input.cursor) : undefined;
  const rows = await searchProductRows(deps.pool, { ...input, before, limit: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return { products: page, next_cursor: rows.length > input.limit && last ? encodeCursor(last) : null };
}

import { ValidationError } from '../../errors';
import { listProducts as listProductRows, type ListedProductRow } from '../../repositories/product.repository';
import type { ProductStatus } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';

export interface ListProductsInput {
  status?: ProductStatus;
  data_type?: string;
  created_since?: Date;
  created_until?: Date;
  /** Opaque cursor from a previous page's next_cursor. */
  cursor?: string;
  limit: number;
}

export interface ProductPage {
  products: ListedProductRow[];
  /** Cursor of the next page; null on the last page. */
  next_cursor: string | null;
}

interface CursorPosition {
  created_at: string;
  id: number;
}

/** Encodes a keyset position as base64url JSON: opaque to clients, exact to the microsecond. */
export function encodeCursor(row: Pick<ListedProductRow, 'created_at_exact' | 'id'>): string {
  return Buffer.from(JSON.stringify({ t: row.created_at_exact, i: row.id })).toString('base64url');
}

/** Decodes a cursor; a tampered or foreign one is a 400 naming the field. */
export function decodeCursor(cursor: string): CursorPosition {
  try {
    const raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
    if (typeof raw.t === 'string' && !Number.isNaN(Date.parse(raw.t)) && Number.isSafeInteger(raw.i)) {
      return { created_at: raw.t, id: raw.i as number };
    }
  } catch {
    // fall through to the refusal below
  }
  throw new ValidationError('invalid_cursor', 'cursor is not one this API issued: pass next_cursor from the previous page unchanged');
}

/** One page of products in (created_at, id) order; next_cursor is null when no row follows. */
export async function listProducts(deps: Pick<RegistryDeps, 'pool'>, input: ListProductsInput): Promise<ProductPage> {
  const after = input.cursor ? decodeCursor(input.cursor) : undefined;
  // One row more than asked tells whether another page exists without a count query.
  const rows = await listProductRows(deps.pool, {
    status: input.status,
    data_type: input.data_type,
    created_since: input.created_since,
    created_until: input.created_until,
    after,
    limit: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return { products: page, next_cursor: rows.length > input.limit && last ? encodeCursor(last) : null };
}

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

/** created_at as the list query renders it (to_char … 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'): UTC, microseconds. */
const EXACT_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
/** Cursors are short; anything longer was not issued here. */
const MAX_CURSOR_LENGTH = 200;

/** Encodes a keyset position as base64url JSON: opaque to clients, exact to the microsecond. */
export function encodeCursor(row: Pick<ListedProductRow, 'created_at_exact' | 'id'>): string {
  return Buffer.from(JSON.stringify({ t: row.created_at_exact, i: row.id })).toString('base64url');
}

/** True for a real calendar instant PostgreSQL accepts, in exactly the form the list query renders. */
function isExactTimestamp(t: string): boolean {
  const m = EXACT_TIMESTAMP.exec(t);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (year < 1) return false;
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day
    && d.getUTCHours() === hour && d.getUTCMinutes() === minute && d.getUTCSeconds() === second;
}

/**
 * Decodes a cursor, accepting only what encodeCursor could have produced: base64url of exactly
 * `{"t":<timestamp as the list query renders it>,"i":<positive id>}`, re-encoded byte for byte.
 * Anything else (other fields, other spellings, an impossible date, a huge id) is a 400 before it
 * reaches the query. A cursor carries a position, never an authority, so it is validated rather
 * than signed (see docs/security-api.md).
 */
export function decodeCursor(cursor: string): CursorPosition {
  if (cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      const raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
      if (typeof raw.t === 'string' && isExactTimestamp(raw.t) && Number.isSafeInteger(raw.i) && (raw.i as number) > 0) {
        const position = { created_at: raw.t, id: raw.i as number };
        if (encodeCursor({ created_at_exact: position.created_at, id: position.id }) === cursor) return position;
      }
    } catch {
      // fall through to the refusal below
    }
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

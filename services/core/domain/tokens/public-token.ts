import type { Scope, TokenRow } from '../../repositories/token.types';

/** What clients see of a token: never its hash. */
export interface PublicToken {
  name: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Shapes a token row for a response. */
export function publicToken(row: TokenRow): PublicToken {
  return {
    name: row.name,
    scopes: row.scopes,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

import type { Queryable } from '../../db/pool';
import { findTokenByHash } from '../../repositories/token.repository';
import type { Scope } from '../../repositories/token.types';
import { hashToken, sameHash } from './token-secret';

/** Who a valid token belongs to: enough for authorisation and the access log. */
export interface TokenIdentity {
  /** Database id; undefined for the bootstrap admin token, which lives only in configuration. */
  id: number | undefined;
  name: string;
  scopes: Scope[];
}

/** Name the bootstrap admin token (FERRY_ADMIN_TOKEN) carries in logs. */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/**
 * Resolves a presented token to its identity, or undefined when it is unknown or revoked.
 * Hashes are compared with timingSafeEqual; the bootstrap token is checked first and needs no database.
 */
export async function verifyToken(
  deps: { db: Queryable; adminTokenSha256: string | undefined },
  presented: string,
): Promise<TokenIdentity | undefined> {
  const digest = hashToken(presented);
  if (deps.adminTokenSha256 && sameHash(digest, deps.adminTokenSha256)) {
    return { id: undefined, name: BOOTSTRAP_TOKEN_NAME, scopes: ['admin'] };
  }
  const row = await findTokenByHash(deps.db, digest);
  if (!row || row.revoked_at || !sameHash(digest, row.token_sha256)) return undefined;
  return { id: row.id, name: row.name, scopes: row.scopes };
}

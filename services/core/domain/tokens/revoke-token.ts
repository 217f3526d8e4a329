import type { Queryable } from '../../db/pool';
import { NotFoundError } from '../../errors';
import { revokeToken as revokeTokenRow } from '../../repositories/token.repository';
import { publicToken, type PublicToken } from './public-token';

/** Revokes a token by name; idempotent (a second call returns the first revocation time). */
export async function revokeToken(deps: { db: Queryable }, name: string): Promise<PublicToken> {
  const row = await revokeTokenRow(deps.db, name);
  if (!row) throw new NotFoundError(`no token named "${name}"`, 'token_not_found');
  return publicToken(row);
}

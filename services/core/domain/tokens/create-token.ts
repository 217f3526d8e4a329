import { ConflictError, ValidationError } from '../../errors';
import type { Queryable } from '../../db/pool';
import { insertToken } from '../../repositories/token.repository';
import type { Scope } from '../../repositories/token.types';
import { generateToken, hashToken } from './token-secret';
import { publicToken, type PublicToken } from './public-token';
import { isReservedTokenName } from './reserved-token-names';

/** A created token: the only time its plaintext is ever returned. */
export interface CreatedToken extends PublicToken {
  token: string;
}

/**
 * Creates a named token with the given scopes; 400 reserved_token_name for a name the API uses
 * itself, 409 when the name is taken (revoked names stay taken).
 */
export async function createToken(deps: { db: Queryable }, input: { name: string; scopes: Scope[] }): Promise<CreatedToken> {
  if (isReservedTokenName(input.name)) {
    throw new ValidationError('reserved_token_name', `name: "${input.name}" is reserved for the API's own identities: pick another name`, 400, { field: 'name' });
  }
  const token = generateToken();
  const scopes = [...new Set(input.scopes)];
  const row = await insertToken(deps.db, { name: input.name, token_sha256: hashToken(token), scopes });
  if (!row) throw new ConflictError('token_name_taken', `a token named "${input.name}" already exists (revoked names stay reserved): pick another name`);
  return { ...publicToken(row), token };
}

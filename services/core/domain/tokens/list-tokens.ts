import type { Queryable } from '../../db/pool';
import { listTokens as listTokenRows } from '../../repositories/token.repository';
import { publicToken, type PublicToken } from './public-token';

/** Every token, revoked ones included, without hashes. */
export async function listTokens(deps: { db: Queryable }): Promise<PublicToken[]> {
  return (await listTokenRows(deps.db)).map(publicToken);
}

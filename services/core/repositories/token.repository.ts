import type { Queryable } from '../db/pool';
import { prepared } from '../db/prepared';
import type { Scope, TokenRow } from './token.types';

/** Inserts a token; undefined when the name (or, astronomically unlikely, the hash) is taken. */
export async function insertToken(db: Queryable, t: { name: string; token_sha256: string; scopes: Scope[] }): Promise<TokenRow | undefined> {
  const res = await db.query<TokenRow>(
    `INSERT INTO api_tokens (name, token_sha256, scopes) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING *`,
    [t.name, t.token_sha256, t.scopes],
  );
  return res.rows[0];
}

/**
 * The token with this hash (revoked or not), or undefined; the unique index makes it one lookup.
 * Every authenticated request runs it, so it is prepared (and names its columns).
 */
export async function findTokenByHash(db: Queryable, tokenSha256: string): Promise<TokenRow | undefined> {
  const res = await db.query<TokenRow>(
    prepared('SELECT id, name, token_sha256, scopes, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_sha256 = $1', [tokenSha256]),
  );
  return res.rows[0];
}

/** The token with this name, or undefined. */
export async function findTokenByName(db: Queryable, name: string): Promise<TokenRow | undefined> {
  const res = await db.query<TokenRow>('SELECT * FROM api_tokens WHERE name = $1', [name]);
  return res.rows[0];
}

/** Every token, oldest first (a handful of rows: one per pipeline or operator). */
export async function listTokens(db: Queryable): Promise<TokenRow[]> {
  return (await db.query<TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id')).rows;
}

/** Marks a token revoked (keeping the first revocation time); undefined if no such name. */
export async function revokeToken(db: Queryable, name: string): Promise<TokenRow | undefined> {
  const res = await db.query<TokenRow>(
    `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE name = $1 RETURNING *`,
    [name],
  );
  return res.rows[0];
}

/** Records a use, writing only when the stored time is older than minIntervalSeconds (keeps writes rare). */
export async function touchToken(db: Queryable, id: number, minIntervalSeconds: number): Promise<void> {
  await db.query(
    `UPDATE api_tokens SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
    [id, minIntervalSeconds],
  );
}

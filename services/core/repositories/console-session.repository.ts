import type { Queryable } from '../db/pool';
import type { Scope } from './token.types';

/** A live console session joined with the token it was opened with (scopes null: the bootstrap token, or no such token). */
export interface ConsoleSessionRow {
  id_sha256: string;
  token_sha256: string;
  token_name: string;
  csrf_token: string;
  expires_at: Date;
  scopes: Scope[] | null;
  revoked_at: Date | null;
}

/** Stores a new session; its id and token only as SHA-256. */
export async function insertConsoleSession(
  db: Queryable,
  s: { id_sha256: string; token_sha256: string; token_name: string; csrf_token: string; expires_at: Date },
): Promise<void> {
  await db.query(
    'INSERT INTO console_sessions (id_sha256, token_sha256, token_name, csrf_token, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [s.id_sha256, s.token_sha256, s.token_name, s.csrf_token, s.expires_at],
  );
}

/** An unexpired session and the current state of its token, in one round trip; undefined when none. */
export async function findConsoleSession(db: Queryable, idSha256: string): Promise<ConsoleSessionRow | undefined> {
  const res = await db.query<ConsoleSessionRow>(
    `SELECT s.id_sha256, s.token_sha256, s.token_name, s.csrf_token, s.expires_at, t.scopes, t.revoked_at
       FROM console_sessions s LEFT JOIN api_tokens t ON t.token_sha256 = s.token_sha256
      WHERE s.id_sha256 = $1 AND s.expires_at > now()`,
    [idSha256],
  );
  return res.rows[0];
}

/** Ends one session. */
export async function deleteConsoleSession(db: Queryable, idSha256: string): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE id_sha256 = $1', [idSha256]);
}

/** Ends every session opened with a token (by the token's name). */
export async function deleteConsoleSessionsOfToken(db: Queryable, tokenName: string): Promise<number> {
  const res = await db.query('DELETE FROM console_sessions WHERE token_name = $1', [tokenName]);
  return res.rowCount ?? 0;
}

/** Forgets expired sessions (run on sign-in, so the table stays the size of the live sessions). */
export async function deleteExpiredConsoleSessions(db: Queryable): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE expires_at <= now()');
}

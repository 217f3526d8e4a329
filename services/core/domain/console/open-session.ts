import crypto from 'node:crypto';
import type { Queryable } from '../../db/pool';
import { UnauthorizedError } from '../../errors';
import { deleteExpiredConsoleSessions, insertConsoleSession } from '../../repositories/console-session.repository';
import { hashToken } from '../tokens/token-secret';
import { verifyToken } from '../tokens/verify-token';

export interface SessionDeps {
  db: Queryable;
  /** SHA-256 of FERRY_ADMIN_TOKEN, when one is configured. */
  adminTokenSha256: string | undefined;
}

/** A new session: the cookie value (shown to the browser only) and when it expires. */
export interface OpenedSession {
  sessionId: string;
  expiresAt: Date;
}

/**
 * Signs in with an API token: a valid, unrevoked token opens a server-side session that lasts
 * `lifetimeMs`. The browser holds only a random id; the database holds its SHA-256, the token's
 * SHA-256 and the session's CSRF token. An unknown or revoked token is 401.
 */
export async function openSession(deps: SessionDeps, token: string, lifetimeMs: number): Promise<OpenedSession> {
  const identity = await verifyToken({ db: deps.db, adminTokenSha256: deps.adminTokenSha256 }, token);
  if (!identity) throw new UnauthorizedError('that token is unknown or revoked: paste a valid API token');
  await deleteExpiredConsoleSessions(deps.db);
  const sessionId = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + lifetimeMs);
  await insertConsoleSession(deps.db, {
    id_sha256: hashToken(sessionId),
    token_sha256: hashToken(token),
    token_name: identity.name,
    csrf_token: crypto.randomBytes(32).toString('base64url'),
    expires_at: expiresAt,
  });
  return { sessionId, expiresAt };
}

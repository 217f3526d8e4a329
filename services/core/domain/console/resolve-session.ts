import { deleteConsoleSession, findConsoleSession } from '../../repositories/console-session.repository';
import type { Scope } from '../../repositories/token.types';
import { BOOTSTRAP_TOKEN_NAME } from '../tokens/verify-token';
import { hashToken, sameHash } from '../tokens/token-secret';
import type { SessionDeps } from './open-session';

/** Who is signed in: the token's name and its current scopes, and the session's CSRF token. */
export interface ConsoleIdentity {
  sessionIdSha256: string;
  name: string;
  scopes: Scope[];
  csrfToken: string;
  expiresAt: Date;
}

/**
 * The identity behind a session cookie, or undefined when the session is unknown, expired, or its
 * token has been revoked since (or, for the bootstrap token, replaced). Scopes are the token's
 * current ones, read on every request, so revoking a token ends its sessions at once.
 */
export async function resolveSession(deps: SessionDeps, sessionId: string): Promise<ConsoleIdentity | undefined> {
  const idSha256 = hashToken(sessionId);
  const row = await findConsoleSession(deps.db, idSha256);
  if (!row) return undefined;
  let scopes: Scope[] | undefined;
  if (deps.adminTokenSha256 && sameHash(row.token_sha256, deps.adminTokenSha256)) scopes = ['admin'];
  else if (row.scopes && !row.revoked_at && row.token_name !== BOOTSTRAP_TOKEN_NAME) scopes = row.scopes;
  if (!scopes) {
    await deleteConsoleSession(deps.db, idSha256);
    return undefined;
  }
  return { sessionIdSha256: idSha256, name: row.token_name, scopes, csrfToken: row.csrf_token, expiresAt: row.expires_at };
}

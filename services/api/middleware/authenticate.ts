import type { RequestHandler } from 'express';
import type { Queryable } from '../../core/db/pool';
import { hashToken } from '../../core/domain/tokens/token-secret';
import { verifyToken } from '../../core/domain/tokens/verify-token';
import { touchToken } from '../../core/repositories/token.repository';
import './request-types';

/** last_used_at is written at most this often per token, so a busy pipeline costs one UPDATE a minute. */
export const LAST_USED_INTERVAL_SECONDS = 60;

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

export interface AuthenticateDeps {
  db: Queryable;
  /** FERRY_ADMIN_TOKEN: the bootstrap admin token, held only as its hash once read. */
  adminToken: string | undefined;
}

/**
 * Resolves `Authorization: Bearer <token>` into req.auth (name and scopes). It never rejects by
 * itself: requireScope() answers 401/403, and the rate limiter between them counts bad guesses
 * per client address. A database error while looking a token up propagates (503 from the error
 * handler), except for the bootstrap token, which needs no database.
 */
export function authenticate(deps: AuthenticateDeps): RequestHandler {
  const adminTokenSha256 = deps.adminToken ? hashToken(deps.adminToken) : undefined;
  const lastTouched = new Map<number, number>();
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      req.authFailure = header ? 'invalid' : 'missing';
      next();
      return;
    }
    const identity = await verifyToken({ db: deps.db, adminTokenSha256 }, match[1]);
    if (!identity) {
      req.authFailure = 'invalid';
      next();
      return;
    }
    req.auth = identity;
    if (identity.id !== undefined) {
      const now = Date.now();
      const id = identity.id;
      if (now - (lastTouched.get(id) ?? 0) >= LAST_USED_INTERVAL_SECONDS * 1000) {
        lastTouched.set(id, now);
        // Fire and forget: recording a use must never slow down or fail the request.
        touchToken(deps.db, id, LAST_USED_INTERVAL_SECONDS).catch((err: unknown) => req.log?.warn('could not record token use', { err }));
      }
    }
    next();
  };
}

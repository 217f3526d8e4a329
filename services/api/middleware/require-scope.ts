import type { RequestHandler } from 'express';
import { hasScope } from '../../core/domain/tokens/token-secret';
import { ForbiddenError, UnauthorizedError } from '../../core/errors';
import type { Scope } from '../../core/repositories/token.types';
import './request-types';

/** Methods that only read; every other method changes something. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Throws 401 without a valid token, 403 when the token lacks `needed` (or a scope above it). */
export function assertScope(req: Parameters<RequestHandler>[0], needed: Scope): void {
  if (!req.auth) {
    throw new UnauthorizedError(
      req.authFailure === 'invalid'
        ? 'the bearer token is unknown or revoked: send a valid token as "Authorization: Bearer <token>"'
        : 'this route needs a token: send "Authorization: Bearer <token>"',
    );
  }
  if (!hasScope(req.auth.scopes, needed)) {
    throw new ForbiddenError(`this route needs the "${needed}" scope; the token "${req.auth.name}" has ${req.auth.scopes.join(', ')}`, { required_scope: needed });
  }
}

/** Guards a router or route: the caller's token must carry `needed` (admin ⊇ publish ⊇ read). */
export function requireScope(needed: Scope): RequestHandler {
  return (req, _res, next) => {
    assertScope(req, needed);
    next();
  };
}

/** Guards a router whose reads and writes need different scopes (GET/HEAD → read, others → write). */
export function requireScopeByMethod(scopes: { read: Scope; write: Scope }): RequestHandler {
  return (req, _res, next) => {
    assertScope(req, READ_METHODS.has(req.method) ? scopes.read : scopes.write);
    next();
  };
}

import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { hasScope } from '../../core/domain/tokens/token-secret';
import { ForbiddenError, UnauthorizedError } from '../../core/errors';
import type { Scope } from '../../core/repositories/token.types';
import './console-types';

/** Methods that change nothing; every other one must carry the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Constant-time comparison of two tokens of any length. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** The `_csrf` form field of a request. */
export function csrfOf(req: Request): string | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?._csrf;
  return typeof v === 'string' ? v : undefined;
}

/** Every console page needs a session: 401 (the error page sends a GET to the sign-in form). */
export function requireSession(): RequestHandler {
  return (req, _res, next) => {
    if (!req.consoleUser) throw new UnauthorizedError('sign in to use the console');
    next();
  };
}

/** A state-changing request must echo its session's CSRF token in the `_csrf` field: 403 otherwise. */
export function requireCsrf(): RequestHandler {
  return (req, _res, next) => {
    if (!SAFE_METHODS.has(req.method) && !sameToken(csrfOf(req), req.consoleUser?.csrfToken)) {
      throw new ForbiddenError('the form is missing its CSRF token or it does not match this session: reload the page and try again', { reason: 'csrf' });
    }
    next();
  };
}

/** A verb needs this scope (admin ⊇ publish ⊇ read): 403 for a token without it, whatever the form said. */
export function consoleScope(needed: Scope): RequestHandler {
  return (req, _res, next) => {
    const user = req.consoleUser;
    if (!user) throw new UnauthorizedError('sign in to use the console');
    if (!hasScope(user.scopes, needed)) throw new ForbiddenError(`this action needs the "${needed}" scope; you are signed in as "${user.name}" (${user.scopes.join(', ')})`, { required_scope: needed });
    next();
  };
}

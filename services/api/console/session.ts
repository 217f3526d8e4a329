import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { SessionDeps } from '../../core/domain/console/open-session';
import { resolveSession } from '../../core/domain/console/resolve-session';
import './console-types';

/**
 * The session cookie. `__Host-` makes the browser insist on Secure, Path=/ and no Domain, so no
 * sibling host can plant or read it; HttpOnly keeps it from scripts; SameSite=Strict keeps it off
 * every cross-site request.
 */
export const SESSION_COOKIE = '__Host-ferry_console';
/** The pre-session CSRF cookie of the sign-in form (double submit: cookie and field must match). */
export const SIGNIN_COOKIE = '__Host-ferry_signin';

/** Attributes of both cookies. */
export function cookieOptions(expires?: Date): CookieOptions {
  return { httpOnly: true, secure: true, sameSite: 'strict', path: '/', ...(expires ? { expires } : {}) };
}

/** One cookie's value from the Cookie header (no parser dependency for two names). */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** Clears the session cookie. */
export function clearSessionCookie(res: Response): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions());
}

/** Resolves the session cookie into req.consoleUser (nothing when absent, expired or its token revoked). */
export function loadSession(deps: SessionDeps): RequestHandler {
  return async (req, res, next) => {
    const id = readCookie(req, SESSION_COOKIE);
    if (id) {
      req.consoleUser = await resolveSession(deps, id);
      if (!req.consoleUser) clearSessionCookie(res);
    }
    next();
  };
}

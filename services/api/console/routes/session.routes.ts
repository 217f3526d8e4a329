import crypto from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { openSession } from '../../../core/domain/console/open-session';
import { deleteConsoleSession } from '../../../core/repositories/console-session.repository';
import { ForbiddenError, UnauthorizedError } from '../../../core/errors';
import type { ConsoleDeps } from '../console-deps';
import { csrfOf, requireCsrf, requireSession, sameToken } from '../guards';
import { clearSessionCookie, cookieOptions, readCookie, SESSION_COOKIE, SIGNIN_COOKIE } from '../session';
import { BASE } from '../views/layout.view';
import { signInPage } from '../views/sign-in.view';
import { viewContext } from '../views/view-context';

/** Sign in with an API token (rate-limited per client address), and sign out. */
export function sessionRoutes(deps: ConsoleDeps, signInLimit: RequestHandler): Router {
  const router = Router();
  const grafana = deps.config.console.grafanaUrl;

  const form = (res: Parameters<RequestHandler>[1], req: Parameters<RequestHandler>[0], status: number, message?: string) => {
    const csrf = crypto.randomBytes(24).toString('base64url');
    res.cookie(SIGNIN_COOKIE, csrf, cookieOptions());
    res.status(status).type('html').send(signInPage(viewContext(req, grafana), csrf, message).value);
  };

  router.get('/sign-in', (req, res) => {
    if (req.consoleUser) return res.redirect(303, BASE);
    form(res, req, 200);
  });

  router.post('/sign-in', signInLimit, async (req, res) => {
    // Double submit: only a page this origin served can post the sign-in form (no login CSRF).
    if (!sameToken(csrfOf(req), readCookie(req, SIGNIN_COOKIE))) {
      throw new ForbiddenError('the sign-in form is missing its CSRF token: reload the page and try again', { reason: 'csrf' });
    }
    const token = typeof (req.body as Record<string, unknown>).token === 'string' ? ((req.body as Record<string, string>).token ?? '').trim() : '';
    try {
      const session = await openSession(deps.sessions, token, deps.config.console.sessionMs);
      res.clearCookie(SIGNIN_COOKIE, cookieOptions());
      res.cookie(SESSION_COOKIE, session.sessionId, cookieOptions(session.expiresAt));
      req.log.info('console sign-in');
      res.redirect(303, BASE);
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
      req.log.info('console sign-in refused');
      form(res, req, 401, 'That token is unknown or revoked.');
    }
  });

  router.post('/sign-out', requireSession(), requireCsrf(), async (req, res) => {
    await deleteConsoleSession(deps.sessions.db, req.consoleUser!.sessionIdSha256);
    clearSessionCookie(res);
    res.redirect(303, `${BASE}/sign-in`);
  });

  return router;
}

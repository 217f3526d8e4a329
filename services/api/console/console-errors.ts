import type { ErrorRequestHandler } from 'express';
import { toResponse } from '../middleware/error-handler';
import { BASE } from './views/layout.view';
import { errorPage } from './views/sign-in.view';
import { viewContext } from './views/view-context';

/**
 * The console's errors as HTML pages, with the statuses and codes of the API's one error mapping.
 * A GET without a session goes to the sign-in form instead (303).
 */
export function consoleErrors(grafanaUrl: string | undefined): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const { status, body } = toResponse(err);
    if (status === 401 && (req.method === 'GET' || req.method === 'HEAD')) {
      res.redirect(303, `${BASE}/sign-in`);
      return;
    }
    if (status >= 500) req.log.error('console request failed', { status, code: body.error.code, err });
    else req.log.info('console request refused', { status, code: body.error.code, message: body.error.message });
    res.status(status).type('html').send(errorPage(viewContext(req, grafanaUrl), status, body.error.code, body.error.message).value);
  };
}

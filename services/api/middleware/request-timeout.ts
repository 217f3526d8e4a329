import type { RequestHandler } from 'express';

/**
 * Answers 503 `request_timeout` when a handler has not replied within timeoutMs, or 408
 * `body_timeout` when the client has not even finished sending its body by then (the client's
 * doing, not the server's: it must not count as a server error). The reply is written here rather
 * than through the error handler because the handler may still be running; anything it writes
 * later is dropped by Express (headers already sent).
 */
export function requestTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader('Connection', 'close');
      if (!req.complete) {
        req.log?.info('request body timed out', { timeout_ms: timeoutMs });
        res.status(408).json({ error: { code: 'body_timeout', message: `the request body did not arrive within ${timeoutMs / 1000} s: send it faster` } });
        return;
      }
      req.log?.warn('request timed out', { timeout_ms: timeoutMs });
      res.status(503).json({ error: { code: 'request_timeout', message: `the request took longer than ${timeoutMs / 1000} s; retry later` } });
    }, timeoutMs);
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}

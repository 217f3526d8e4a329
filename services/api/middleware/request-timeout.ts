import type { RequestHandler } from 'express';

/**
 * Answers 503 `request_timeout` when a handler has not replied within timeoutMs. The reply is
 * written here rather than through the error handler because the handler may still be running;
 * anything it writes later is dropped by Express (headers already sent).
 */
export function requestTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      req.log?.warn('request timed out', { timeout_ms: timeoutMs });
      res.setHeader('Connection', 'close');
      res.status(503).json({ error: { code: 'request_timeout', message: `the request took longer than ${timeoutMs / 1000} s; retry later` } });
    }, timeoutMs);
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}

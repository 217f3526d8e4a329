import type { RequestHandler } from 'express';

/**
 * The console's Content-Security-Policy: scripts, styles and the event stream from this origin
 * only; no inline script or style, no eval, no plugins, no framing, forms post only here. nginx
 * forwards this header for console answers (and keeps its own stricter one for everything else).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sets the CSP on every console answer. */
export function consoleHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    next();
  };
}

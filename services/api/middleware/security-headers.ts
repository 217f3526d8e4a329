import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet with every header nginx owns switched off, so no header is ever sent twice (see
 * docs/security-headers.md). nginx sets Strict-Transport-Security, Content-Security-Policy,
 * X-Content-Type-Options, X-Frame-Options, Referrer-Policy and Permissions-Policy; the app keeps
 * the Cross-Origin-* headers, X-DNS-Prefetch-Control and X-Permitted-Cross-Domain-Policies, and
 * never sends X-Powered-By.
 */
function appHelmet(): RequestHandler {
  return helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: false,
    xContentTypeOptions: false,
    xFrameOptions: false,
    referrerPolicy: false,
    // A JSON API embeds nothing; COEP only matters to documents that do.
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    xDnsPrefetchControl: { allow: false },
    xPermittedCrossDomainPolicies: { permittedPolicies: 'none' },
    // X-Powered-By: the app never sets it (app.disable('x-powered-by') in app.ts).
  });
}

/**
 * The headers a middleware sets, found by running it once on a stand-in response. With CSP off,
 * every header helmet sends here is the same for every request, so they are worked out once.
 */
function headersSetBy(middleware: RequestHandler): [string, string][] {
  const set = new Map<string, string>();
  let called = false;
  const res = {
    setHeader: (name: string, value: string) => set.set(name, value),
    removeHeader: (name: string) => set.delete(name),
  };
  middleware({} as Parameters<RequestHandler>[0], res as unknown as Parameters<RequestHandler>[1], () => { called = true; });
  if (!called) throw new Error('helmet did not finish synchronously: its headers cannot be worked out once');
  return [...set];
}

/**
 * helmet's headers (see appHelmet) and Cache-Control: no-store in one middleware. helmet is still
 * what decides the names and values, but it runs once at start-up: per request it was seven
 * middlewares in a row setting the same values every time.
 */
export function securityHeaders(): RequestHandler {
  const headers = headersSetBy(appHelmet());
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/**
 * Cache-Control: no-store on every app response, so answers are never cached even when the api
 * is reached without nginx. nginx hides this header (proxy_hide_header) and adds its own single
 * copy, so a client always sees exactly one.
 */
export function noStore(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
}

import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet with every header nginx owns switched off, so no header is ever sent twice (see
 * docs/security-headers.md). nginx sets Strict-Transport-Security, Content-Security-Policy,
 * X-Content-Type-Options, X-Frame-Options, Referrer-Policy and Permissions-Policy; the app keeps
 * the Cross-Origin-* headers, X-DNS-Prefetch-Control and X-Permitted-Cross-Domain-Policies, and
 * never sends X-Powered-By.
 */
export function securityHeaders(): RequestHandler {
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
    // xPoweredBy stays on: helmet's middleware removes X-Powered-By.
  });
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

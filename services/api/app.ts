import express, { type Express } from 'express';
import { healthRouter } from './health/health.routes';
import type { ApiDeps } from './api-deps';
import { createConsole } from './console/console.router';
import { authenticate } from './middleware/authenticate';
import { namedRoots } from '../core/errors/root-relative';
import { errorHandler, notFound, rejectMalformedPath, requireJsonBody } from './middleware/error-handler';
import { httpMetrics } from './middleware/http-metrics';
import { createRateLimit } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { requestTimeout } from './middleware/request-timeout';
import { requireScope } from './middleware/require-scope';
import { captureRoutePatterns } from './middleware/route-pattern';
import { noStore, securityHeaders } from './middleware/security-headers';
import { openApiHandler } from './routes/openapi.routes';
import { monitoringRoutes } from './routes/monitoring.routes';
import { productsRoutes } from './routes/products.routes';
import { lifecycleRoutes } from './routes/lifecycle.routes';
import { publishingControlRoutes } from './routes/publishing-control.routes';
import { lineageRoutes, searchRoutes } from './routes/lineage.routes';
import { reconcileRoutes } from './routes/reconcile.routes';
import { statusRoutes } from './routes/status.routes';
import { systemMetricsRouter } from './routes/system-metrics.routes';
import { tokensRouter } from './routes/tokens.routes';

/** Largest JSON body accepted (1 MiB); larger → 413 payload_too_large. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Builds the Express app; never listens, so tests drive it with supertest. The order matters:
 * request context → security headers → http metrics → malformed paths refused → health (no token)
 * → the public OpenAPI document (GET only) → the console (/console, its own session) → authenticate
 * → rate limit → any valid token (so an anonymous request, OPTIONS included, never reaches a body
 * parser or a router) → JSON body → /api routers (each route guarded by requireScope) → 404 → the
 * one error handler.
 */
export function createApp(deps: ApiDeps): Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Only the nginx hop is trusted for X-Forwarded-For, so req.ip is the real client and cannot be spoofed.
  app.set('trust proxy', config.http.trustProxy);
  app.set('query parser', 'simple');
  // Every answer is Cache-Control: no-store, so no client ever revalidates with If-None-Match: an
  // ETag would be a SHA-1 of each response body for nothing.
  app.set('etag', false);
  // Metrics and the access log name each request by its route pattern, never its raw URL.
  captureRoutePatterns(app);

  // 1. Request context: request id, child logger, access log.
  app.use(requestContext(logger));
  // 2. Security headers (those nginx does not set) and no caching.
  app.use(securityHeaders(), noStore());
  // 3. HTTP metrics by route pattern.
  app.use(httpMetrics(deps.metrics));
  app.use(requestTimeout(config.http.requestTimeoutMs));
  app.use(rejectMalformedPath());

  const auth = authenticate({ db: deps.pool, adminToken: config.auth.adminToken });
  // 4. Health: no token (except /health/detailed, which authenticates itself).
  app.use(healthRouter({ config, pool: deps.pool, redis: deps.redis, queue: deps.queue, cpu: deps.cpu, authenticate: auth }));
  // 5. The OpenAPI document is public (GET and HEAD only: an OPTIONS falls through to the token check).
  app.get('/api/openapi.json', openApiHandler());
  // The operator console: HTML pages with their own session, CSRF and CSP (and HTML error pages).
  const operatorConsole = createConsole(deps);
  app.use('/console', operatorConsole.router);
  app.locals.consoleLive = operatorConsole.live;

  // 6. Authenticate (resolves the token; requireScope answers 401/403), 7. rate limit per token / IP,
  // 8. every other /api request needs a valid token before its body is read or a router lists its methods.
  app.use('/api', auth);
  app.use('/api', createRateLimit({ redis: deps.redis, prefix: config.redis.prefix, ...config.http.rateLimit, logger }));
  app.use('/api', requireScope('read'));
  app.use('/api', requireJsonBody(), express.json({ limit: MAX_BODY_BYTES, strict: true }));

  // 9. The API, each route with its scope.
  const registry = { pool: deps.pool, queue: deps.queue, config, logger };
  app.use('/api/products', productsRoutes(registry));
  app.use('/api/products', lifecycleRoutes(registry));
  app.use('/api/publishing', publishingControlRoutes(registry));
  app.use('/api/products', lineageRoutes(registry));
  app.use('/api/search', searchRoutes(registry));
  app.use('/api/monitoring/publish', reconcileRoutes({ pool: deps.pool, queue: deps.queue, config }));
  app.use('/api/monitoring', monitoringRoutes({ ...registry, requestTimeoutMs: config.http.requestTimeoutMs, metrics: deps.metrics }));
  app.use('/api/status', statusRoutes({ queue: deps.queue, redis: deps.redis, pool: deps.pool, config }));
  app.use('/api/metrics', requireScope('read'), systemMetricsRouter({ config, cpu: deps.cpu }));
  app.use('/api/tokens', requireScope('admin'), tokensRouter({ db: deps.pool }));

  // 10. Unknown routes, then the one error handler.
  app.use(notFound());
  app.use(errorHandler(logger, namedRoots(config.paths)));
  return app;
}

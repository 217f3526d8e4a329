import path from 'node:path';
import express, { Router, type Express } from 'express';
import { hashToken } from '../../core/domain/tokens/token-secret';
import { NotFoundError } from '../../core/errors';
import type { Config } from '../../core/config';
import type { ApiDeps } from '../api-deps';
import { createRateLimit } from '../middleware/rate-limit';
import { consoleErrors } from './console-errors';
import type { ConsoleDeps } from './console-deps';
import { requireCsrf, requireSession } from './guards';
import { consoleHeaders } from './headers';
import { LiveHub } from './live/live-hub';
import { liveLoader, type LiveData } from './live/live-topics';
import { eventsRoutes } from './routes/events.routes';
import { operationsRoutes } from './routes/operations.routes';
import { pagesRoutes } from './routes/pages.routes';
import { sessionRoutes } from './routes/session.routes';
import { verbsRoutes } from './routes/verbs.routes';
import { loadSession } from './session';

/** How often live pages are refreshed from the registry while someone watches. */
export const LIVE_INTERVAL_MS = 1000;

/**
 * The only files the console serves: htmx and its SSE extension from their npm packages (pinned
 * in package.json, no CDN) and the stylesheet. Nothing else under /console/assets resolves.
 */
export const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript' },
  'sse.min.js': { file: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: 'text/javascript' },
  'console.css': { file: path.join(__dirname, 'assets', 'console.css'), type: 'text/css' },
};

/** The console and its live hub (closed on shutdown so open event streams do not hold up draining). */
export interface Console {
  router: Router;
  live: LiveHub<LiveData>;
}

/**
 * The operator console under /console: server-rendered pages, a session from an API token, a
 * CSRF token on every form, its own CSP, and one event stream per tab. Order: headers → assets
 * (public) → form bodies → session → sign-in/out → session required → CSRF on every write →
 * pages → 404 → HTML errors.
 */
export function createConsole(deps: ApiDeps): Console {
  const config: Config = deps.config;
  const consoleDeps: ConsoleDeps = {
    pool: deps.pool, queue: deps.queue, redis: deps.redis, logger: deps.logger, metrics: deps.metrics, config,
    sessions: { db: deps.pool, adminTokenSha256: config.auth.adminToken ? hashToken(config.auth.adminToken) : undefined },
  };
  const live = new LiveHub<LiveData>({
    load: liveLoader(consoleDeps),
    intervalMs: LIVE_INTERVAL_MS,
    onError: (err) => deps.logger.warn('console live update failed', { err }),
  });
  const signInLimit = createRateLimit({
    redis: deps.redis, prefix: `${config.redis.prefix}:console-sign-in`, logger: deps.logger,
    windowSeconds: config.console.signIn.windowSeconds, perIp: config.console.signIn.perWindow, perToken: config.console.signIn.perWindow,
  });

  const router = Router();
  router.use(consoleHeaders());
  router.get('/assets/:name', (req, res) => {
    const asset = ASSETS[String(req.params.name)];
    if (!asset) throw new NotFoundError('no such console asset');
    res.type(asset.type).sendFile(asset.file);
  });
  router.use(express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 2000 }));
  router.use(loadSession(consoleDeps.sessions));
  router.use(sessionRoutes(consoleDeps, signInLimit));
  router.use(requireSession(), requireCsrf());
  router.use(eventsRoutes(consoleDeps, live));
  router.use(pagesRoutes(consoleDeps));
  router.use(operationsRoutes(consoleDeps));
  router.use(verbsRoutes(consoleDeps));
  router.use((req) => {
    throw new NotFoundError(`no console page ${req.path}`);
  });
  router.use(consoleErrors(config.console.grafanaUrl));
  return { router, live };
}

/** Ends the open event streams of an app built by createApp (first step of shutdown). */
export function closeConsoleStreams(app: Express): void {
  (app.locals.consoleLive as LiveHub<LiveData> | undefined)?.close();
}

import type { Request } from 'express';

const CAPTURED = Symbol('ferry.routePattern');
type Captured = Request & { [CAPTURED]?: { pattern: string | undefined } };

/** Mount path + route path, without the trailing slash a router's `/` route adds. */
function join(base: string, path: string): string {
  const p = `${base}${path}`;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p || '/';
}

/**
 * Remembers the full route pattern (mount path + route path) at the moment Express matches a
 * route. Read later, on 'finish', req.baseUrl may already have been reset (an error thrown inside
 * a sub-router travels out of it), so the pattern is taken when req.route is set.
 */
export function captureRoutePattern(req: Request): void {
  const r = req as Captured;
  if (r[CAPTURED]) return;
  const state: { pattern: string | undefined; route: unknown } = { pattern: undefined, route: req.route };
  r[CAPTURED] = state;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => state.route,
    set: (v: { path?: unknown } | undefined) => {
      state.route = v;
      if (v && typeof v.path === 'string') state.pattern = join(req.baseUrl, v.path);
    },
  });
}

/** The matched route pattern (e.g. `/api/products/:data_id`), or `unmatched` — never the raw URL. */
export function routePattern(req: Request): string {
  const captured = (req as Captured)[CAPTURED]?.pattern;
  if (captured) return captured;
  const route = req.route as { path?: unknown } | undefined;
  return route && typeof route.path === 'string' ? join(req.baseUrl, route.path) : 'unmatched';
}

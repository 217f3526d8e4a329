import type { Express, Request } from 'express';

const ROUTE = Symbol('ferry.route');
const PATTERN = Symbol('ferry.routePattern');
type Tracked = Request & { [ROUTE]?: unknown; [PATTERN]?: string };

/** Mount path + route path, without the trailing slash a router's `/` route adds. */
function join(base: string, path: string): string {
  const p = `${base}${path}`;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p || '/';
}

/**
 * Remembers each request's full route pattern (mount path + route path) at the moment Express
 * matches a route: read later, on 'finish', req.baseUrl may already have been reset (an error
 * thrown inside a sub-router travels out of it). The accessor is defined once, on the app's
 * request prototype: defined on each request, it gave every request object a shape of its own,
 * which made property access on requests slow everywhere (85 µs of api CPU per product read,
 * docs/performance.md).
 */
export function captureRoutePatterns(app: Express): void {
  Object.defineProperty(app.request, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Tracked) {
      return this[ROUTE];
    },
    set(this: Tracked, v: { path?: unknown } | undefined) {
      this[ROUTE] = v;
      if (v && typeof v.path === 'string') this[PATTERN] = join(this.baseUrl, v.path);
    },
  });
}

/** The matched route pattern (e.g. `/api/products/:data_id`), or `unmatched` — never the raw URL. */
export function routePattern(req: Request): string {
  return (req as Tracked)[PATTERN] ?? 'unmatched';
}

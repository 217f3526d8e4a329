import autocannon from 'autocannon';
import { median } from './measure';

export interface LoadResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  errors: number;
  /** Count per HTTP status, to tell a rate limit (429) from an upstream failure (502/504). */
  statuses: Record<string, number>;
}

/**
 * HTTP load with autocannon: `rate` requests per second in all (coordinated omission corrected),
 * or as many as `connections` allow when rate is 0, for `seconds`.
 */
export interface LoadOptions {
  rate?: number;
  seconds?: number;
  connections?: number;
  headers?: Record<string, string>;
  ca?: Buffer;
}

export async function load(url: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: opts.connections ?? 20,
    duration: opts.seconds ?? 10,
    headers: opts.headers ?? {},
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    ...(opts.ca ? { tlsOptions: { ca: opts.ca } } : {}),
  } as autocannon.Options);
  return {
    rps: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statuses: Object.fromEntries(Object.entries((result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
  };
}

/** Throws unless every answer was 2xx: latency of failures measures nothing. */
export function assertAllOk(what: string, r: LoadResult): LoadResult {
  if (r.non2xx || r.errors) throw new Error(`${what}: ${r.non2xx} non-2xx answers (${JSON.stringify(r.statuses)}), ${r.errors} errors`);
  return r;
}

/** `times` runs of load(), each all-2xx; the median p50 and p99, so one GC pause or checkpoint does not decide a p99. */
export async function medianLoad(what: string, url: string, opts: LoadOptions, times: number): Promise<{ p50_ms: number; p99_ms: number }> {
  const runs: LoadResult[] = [];
  for (let i = 0; i < times; i++) runs.push(assertAllOk(what, await load(url, opts)));
  return { p50_ms: median(runs.map((r) => r.p50_ms)), p99_ms: median(runs.map((r) => r.p99_ms)) };
}

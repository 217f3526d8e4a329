import autocannon from 'autocannon';

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
export async function load(url: string, opts: { rate?: number; seconds?: number; connections?: number; headers?: Record<string, string>; ca?: Buffer } = {}): Promise<LoadResult> {
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

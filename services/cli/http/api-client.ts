import { CliError, EXIT_FAILURE, EXIT_UNAVAILABLE } from '../cli-error';
import type {
  FailedList,
  HealthReport,
  Product,
  ProductFilters,
  ProductPage,
  PublishStatus,
  RetryAllResult,
  RetryResult,
  TokenInfo,
} from './api-types';
import { httpRequest, NetworkError, type HttpResponse, type HttpTarget } from './http-request';

type Query = Record<string, string | number | boolean | undefined>;

interface CallOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Builds "path?query" leaving out undefined values. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function errorMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  }
  return undefined;
}

/** Turns a non-2xx answer into the CliError (and exit code) ferryctl documents. */
export function errorForResponse(res: HttpResponse, what: string): CliError {
  const reason = errorMessage(res.body) ?? (typeof res.body === 'string' && res.body ? res.body.slice(0, 200) : `HTTP ${res.status}`);
  if (res.status === 401) return new CliError(`token refused (401): ${reason}`, EXIT_UNAVAILABLE);
  if (res.status === 403) return new CliError(`token refused (403): ${reason}`, EXIT_UNAVAILABLE);
  // 502/503/504 are what a proxy answers when the api is down: the API cannot be reached.
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return new CliError(`API unavailable (${res.status}) on ${what}: ${reason}`, EXIT_UNAVAILABLE);
  }
  if (res.status === 429) {
    const after = res.headers['retry-after'];
    // Still limited after the retries: the command could not finish, which is not a finding.
    return new CliError(`rate limited (429) on ${what}${after ? `; retry after ${String(after)} s` : ''}`, EXIT_UNAVAILABLE);
  }
  return new CliError(`${what} failed (${res.status}): ${reason}`, EXIT_FAILURE);
}

/** Seconds a Retry-After header asks for (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/**
 * Whether an answer is worth asking again: 429 always (nothing was done); 502/503/504 (the api is
 * restarting or overloaded behind the proxy) for reads, and for writes only with Retry-After, which
 * the proxy and the api's own limiter send when the request never reached a handler.
 */
export function isRetryable(method: string, res: HttpResponse): boolean {
  if (res.status === 429) return true;
  if (res.status !== 502 && res.status !== 503 && res.status !== 504) return false;
  return method === 'GET' || res.headers['retry-after'] !== undefined;
}

/** Backoff before retry n (0-based): 0.5 s doubling up to 15 s, half of it jitter; at least what Retry-After asks. */
export function retryDelayMs(n: number, retryAfter: number | undefined, random = Math.random): number {
  const backoff = Math.min(15_000, 500 * 2 ** n);
  const jittered = backoff / 2 + random() * (backoff / 2);
  return Math.max(jittered, (retryAfter ?? 0) * 1000);
}

/** The Ferry API as ferryctl uses it: one method per route, errors already mapped to exit codes. */
export class ApiClient {
  /** How many answers were retried (429s, unavailable), for the final summaries. */
  retries = 0;

  constructor(
    readonly target: HttpTarget,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Sends one request; any status is returned (the caller decides), network failure → exit 2.
   * 429s and unavailable answers (isRetryable) — and, for reads, failed connections — are retried
   * with backoff honouring Retry-After for up to target.retryForMs; then the last answer stands.
   */
  async raw(method: string, path: string, opts: CallOptions = {}): Promise<HttpResponse> {
    const deadline = Date.now() + (this.target.retryForMs ?? 0);
    for (let n = 0; ; n++) {
      let res: HttpResponse | undefined;
      let failure: CliError | undefined;
      try {
        res = await httpRequest(this.target, method, withQuery(path, opts.query), opts.body, { signal: opts.signal, timeoutMs: opts.timeoutMs });
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        failure = new CliError(`cannot reach the API at ${this.target.baseUrl}: ${err.message}`, EXIT_UNAVAILABLE);
      }
      const again = res ? isRetryable(method, res) : method === 'GET';
      const wait = retryDelayMs(n, res ? retryAfterSeconds(res.headers['retry-after']) : undefined);
      if (!again || opts.signal?.aborted || Date.now() + wait > deadline) {
        if (failure) throw failure;
        return res!;
      }
      this.retries++;
      await this.sleep(wait);
    }
  }

  /** Sends one request and returns its JSON body when the status is 2xx. */
  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    if (res.status < 200 || res.status >= 300) throw errorForResponse(res, `${method} ${path}`);
    return res.body as T;
  }

  health(signal?: AbortSignal): Promise<HealthReport> {
    return this.call('GET', '/health', { signal });
  }

  publishStatus(signal?: AbortSignal): Promise<PublishStatus> {
    return this.call('GET', '/api/monitoring/publish/status', { signal });
  }

  queueStatus(signal?: AbortSignal): Promise<Record<string, unknown>> {
    return this.call('GET', '/api/status', { signal });
  }

  failed(q: { maxAttempts?: number; limit?: number }, signal?: AbortSignal): Promise<FailedList> {
    return this.call('GET', '/api/monitoring/publish/failed', {
      query: { max_attempts: q.maxAttempts, limit: q.limit },
      signal,
    });
  }

  retry(dataId: string, waitSeconds?: number): Promise<RetryResult> {
    return this.call('POST', `/api/monitoring/publish/retry/${encodeURIComponent(dataId)}`, {
      query: { wait: waitSeconds },
      // The server waits up to `wait` seconds before it answers.
      timeoutMs: this.target.timeoutMs + (waitSeconds ?? 0) * 1000,
    });
  }

  retryAll(q: { maxAttempts?: number; limit?: number }): Promise<RetryAllResult> {
    return this.call('POST', '/api/monitoring/publish/retry-all', { query: { max_attempts: q.maxAttempts, limit: q.limit } });
  }

  /** Published products with digests and manifests, many per page (GET /api/monitoring/publish/manifests). */
  manifests(q: { data_type?: string; limit?: number; cursor?: string }): Promise<ProductPage> {
    return this.call('GET', '/api/monitoring/publish/manifests', { query: { ...q } });
  }

  /** POST with a JSON body to an operator verb or control route. */
  post<T>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.call('POST', path, { body, query });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call('PUT', path, { body });
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call('GET', path, { query });
  }

  listProducts(filters: ProductFilters, signal?: AbortSignal): Promise<ProductPage> {
    return this.call('GET', '/api/products', { query: { ...filters }, signal });
  }

  async getProduct(dataId: string): Promise<Product> {
    return unwrapProduct(await this.call<unknown>('GET', `/api/products/${encodeURIComponent(dataId)}`));
  }

  createToken(name: string, scopes: string[]): Promise<Record<string, unknown> & { token: string }> {
    return this.call('POST', '/api/tokens', { body: { name, scopes } });
  }

  listTokens(): Promise<unknown> {
    return this.call('GET', '/api/tokens');
  }

  revokeToken(nameOrId: string): Promise<unknown> {
    return this.call('DELETE', `/api/tokens/${encodeURIComponent(nameOrId)}`);
  }

  reconcile(limit?: number): Promise<Record<string, unknown>> {
    // The report walks the archive: allow it far longer than an ordinary request.
    return this.call('GET', '/api/monitoring/publish/reconcile', { query: { limit }, timeoutMs: Math.max(this.target.timeoutMs, 600_000) });
  }
}

/** Accepts the token list as an array or wrapped ({tokens: [...]}) so either API shape works. */
export function tokenArray(body: unknown): TokenInfo[] {
  if (Array.isArray(body)) return body as TokenInfo[];
  if (body && typeof body === 'object' && Array.isArray((body as { tokens?: unknown }).tokens)) {
    return (body as { tokens: TokenInfo[] }).tokens;
  }
  return [];
}

/** Accepts a product as the body itself or as {product, events}, so either API shape works. */
export function unwrapProduct(body: unknown): Product {
  if (body && typeof body === 'object' && 'product' in body && typeof (body as { product: unknown }).product === 'object') {
    const b = body as { product: Product; events?: Product['events'] };
    return { ...b.product, events: b.product.events ?? b.events };
  }
  return body as Product;
}

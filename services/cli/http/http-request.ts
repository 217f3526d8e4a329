import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

/** How to reach the API: base URL, bearer token, an optional private CA and a timeout. */
export interface HttpTarget {
  baseUrl: string;
  token?: string;
  ca?: Buffer;
  timeoutMs: number;
  /** How long one call keeps retrying 429 and unavailable answers (0: never); see ApiClient.raw. */
  retryForMs?: number;
}

/** What the TLS handshake showed, for `ferryctl test`. */
export interface TlsInfo {
  protocol: string | null;
  authorized: boolean;
  subject: string;
  issuer: string;
  validTo: string;
}

/** A response with its body parsed as JSON when it is JSON. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  tls?: TlsInfo;
}

/** The request never got an HTTP answer: refused, timed out, DNS, TLS. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

function certName(name: Record<string, string | string[]> | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

function readTls(socket: TLSSocket): TlsInfo {
  const cert = socket.getPeerCertificate();
  return {
    protocol: socket.getProtocol(),
    authorized: socket.authorized,
    subject: certName(cert.subject as unknown as Record<string, string>),
    issuer: certName(cert.issuer as unknown as Record<string, string>),
    validTo: cert.valid_to ?? '',
  };
}

/** The URL of an API path under the base URL, keeping any path prefix (https://host/ferry/ + /api/x). */
export function buildUrl(baseUrl: string, pathAndQuery: string): URL {
  return new URL(pathAndQuery.replace(/^\/+/, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
}

/**
 * One HTTP(S) request with node:http(s), which (unlike fetch in Node 24) takes a private CA per
 * request. Resolves with any HTTP status; rejects with NetworkError only when no answer came.
 */
export function httpRequest(
  target: HttpTarget,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const url = buildUrl(target.baseUrl, pathAndQuery);
  const isHttps = url.protocol === 'https:';
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'ferryctl' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const timeoutMs = opts.timeoutMs ?? target.timeoutMs;
  return new Promise((resolve, reject) => {
    let tls: TlsInfo | undefined;
    const options: https.RequestOptions = { method, headers, signal: opts.signal, agent: false };
    if (isHttps && target.ca) options.ca = target.ca;
    const req = (isHttps ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new NetworkError(`response interrupted: ${err.message}`, undefined)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        if ((res.headers['content-type'] ?? '').includes('json') && text) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, tls });
      });
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new NetworkError(`no answer within ${Math.round(timeoutMs / 1000)} s`, 'ETIMEDOUT'));
    });
    req.on('socket', (socket) => {
      if (isHttps) socket.once('secureConnect', () => (tls = readTls(socket as TLSSocket)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof NetworkError) reject(err);
      else if (err.name === 'AbortError') reject(err);
      else reject(new NetworkError(describeNetworkError(err), err.code));
    });
    req.end(payload);
  });
}

/** A short, operator-readable reason for a failed connection. */
export function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${err.code})`;
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS: the server certificate is not trusted (${err.code}); pass its CA with --ca`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'TLS: the certificate does not name this host';
    case 'CERT_HAS_EXPIRED':
      return 'TLS: the server certificate has expired';
    default:
      return err.code ? `${err.message} (${err.code})` : err.message;
  }
}

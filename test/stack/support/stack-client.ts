import http from 'node:http';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';

/** One answer from nginx. */
export interface StackResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface StackClientOptions {
  /** Loopback address nginx publishes on. */
  address: string;
  httpsPort: number;
  httpPort: number;
  /** The generated certificate (PEM), trusted as the only CA. */
  caPem: string;
  adminToken: string;
}

/** The DNS name a certificate is valid for (its first DNS subjectAltName, else its CN). */
export function certificateName(pem: string): string {
  const cert = new X509Certificate(pem);
  const dns = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .find((s) => s.startsWith('DNS:'));
  if (dns) return dns.slice(4);
  const cn = /CN=([^,\n]+)/.exec(cert.subject);
  if (!cn) throw new Error(`certificate has neither a DNS name nor a CN: ${cert.subject}`);
  return (cn[1] ?? '').trim();
}

/**
 * Talks to the stack only through nginx on loopback: HTTPS verified against the generated
 * certificate (SNI and Host = its name, so the name check is the real one), or plain HTTP.
 */
export class StackClient {
  readonly serverName: string;
  private readonly agent: https.Agent;

  constructor(private readonly opts: StackClientOptions) {
    this.serverName = certificateName(opts.caPem);
    this.agent = new https.Agent({ ca: opts.caPem, servername: this.serverName, keepAlive: false });
  }

  /** An HTTPS request; `token: null` sends none, undefined sends the admin token. */
  request(method: string, pathname: string, opts: { body?: unknown; token?: string | null; timeoutMs?: number } = {}): Promise<StackResponse> {
    const headers: http.OutgoingHttpHeaders = { Host: this.serverName, Accept: 'application/json' };
    const token = opts.token === undefined ? this.opts.adminToken : opts.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    return send(
      https.request({ host: this.opts.address, port: this.opts.httpsPort, method, path: pathname, headers, agent: this.agent, servername: this.serverName, timeout: opts.timeoutMs ?? 15_000 }),
      payload,
    );
  }

  /**
   * An HTTPS request as a browser sends it to the console: HTML accepted, the given Cookie
   * header, an optional urlencoded form body, and no bearer token.
   */
  browse(method: string, pathname: string, opts: { cookie?: string; form?: Record<string, string> } = {}): Promise<StackResponse> {
    const headers: http.OutgoingHttpHeaders = { Host: this.serverName, Accept: 'text/html' };
    if (opts.cookie) headers.Cookie = opts.cookie;
    let payload: string | undefined;
    if (opts.form) {
      payload = new URLSearchParams(opts.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    return send(
      https.request({ host: this.opts.address, port: this.opts.httpsPort, method, path: pathname, headers, agent: this.agent, servername: this.serverName, timeout: 15_000 }),
      payload,
    );
  }

  /** A plain-HTTP request to nginx's port 80 side. */
  plainHttp(pathname: string): Promise<StackResponse> {
    return send(http.request({ host: this.opts.address, port: this.opts.httpPort, method: 'GET', path: pathname, headers: { Host: this.serverName }, timeout: 15_000 }), undefined);
  }

  get(pathname: string, token?: string | null): Promise<StackResponse> {
    return this.request('GET', pathname, { token });
  }

  post(pathname: string, body: unknown): Promise<StackResponse> {
    return this.request('POST', pathname, { body });
  }
}

function send(req: http.ClientRequest, payload: string | undefined): Promise<StackResponse> {
  return new Promise((resolve, reject) => {
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.end(payload);
  });
}

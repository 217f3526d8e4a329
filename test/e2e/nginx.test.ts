import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { startApiBehindNginx, type ApiBehindNginx } from '../support/api-behind-nginx';
import { composeNginxEnv, prepareNginx, type NginxUnderTest } from '../support/nginx';
import { type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';

// The real nginx/ configuration (rendered from the compose file's own nginx environment) in front
// of the real api (node dist/api/main.js) on loopback, with a certificate from deploy/generate-cert.sh.

import { TEST_ADMIN_TOKEN as ADMIN_TOKEN } from '../support/tokens';
import { waitFor } from '../support/wait-for';
const SECURITY_HEADERS = ['strict-transport-security', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'permissions-policy', 'cache-control', 'x-request-id'];

let stack: ApiBehindNginx;
let cert: string;
let key: string;
let api: NodeProcess;
let nginx: NginxUnderTest;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: string[];
  body: string;
}

function request(opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string; plain?: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false as const };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }));
    };
    const req = opts.plain
      ? http.request({ ...common, port: nginx.ports.http }, onResponse)
      : https.request({ ...common, port: nginx.ports.https, servername: 'localhost', ca: fs.readFileSync(cert) }, onResponse);
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** How often each header name occurs in an answer (case-insensitive). */
/** Waits until the /api/ limit (10 r/s, burst 20) has forgotten earlier requests: 20 excess drain in 2 s. */
function drainApiBucket(): Promise<void> {
  return new Promise((r) => setTimeout(r, 2500));
}

function headerCounts(a: Answer): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < a.raw.length; i += 2) {
    const name = a.raw[i]!.toLowerCase();
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

function expectSecurityHeadersOnce(a: Answer): void {
  const counts = headerCounts(a);
  expect(Object.fromEntries(SECURITY_HEADERS.map((h) => [h, counts[h] ?? 0]))).toEqual(Object.fromEntries(SECURITY_HEADERS.map((h) => [h, 1])));
  expect(a.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
  expect(a.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(a.headers['x-content-type-options']).toBe('nosniff');
  expect(a.headers['x-frame-options']).toBe('DENY');
  expect(a.headers['cache-control']).toBe('no-store');
}

/** openssl s_client with exactly one protocol version; true when a session was negotiated. */
function sClientConnects(port: number, versionFlag: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', versionFlag, '-cipher', 'DEFAULT:@SECLEVEL=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && /^\s*Protocol\s*:\s*TLSv/m.test(out) && !/Cipher is \(NONE\)/.test(out));
    });
  });
}

function tlsVersion(port: number, version: tls.SecureVersion): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: fs.readFileSync(cert), minVersion: version, maxVersion: version }, () => {
      const v = s.getProtocol() ?? undefined;
      s.end();
      resolve(v);
    });
    s.on('error', () => resolve(undefined));
  });
}

beforeAll(async () => {
  stack = await startApiBehindNginx({ METRICS_PORT: String(await freePort()), RATE_LIMIT_PER_IP: '100000' });
  ({ cert, key, api, nginx } = stack);
}, 180000);

afterAll(() => stack?.stop(), 60000);

describe('nginx configuration', () => {
  it('passes nginx -t with the production values (api:8000, Docker DNS, 8080/8443/8081)', async () => {
    const prod = composeNginxEnv();
    const n = await prepareNginx({ cert, key, overrides: { NGINX_API_UPSTREAM: prod.NGINX_API_UPSTREAM!, NGINX_RESOLVER: prod.NGINX_RESOLVER!, NGINX_HTTP_PORT: prod.NGINX_HTTP_PORT!, NGINX_HTTPS_PORT: prod.NGINX_HTTPS_PORT!, NGINX_STATUS_PORT: prod.NGINX_STATUS_PORT! } });
    try {
      expect(prod).toMatchObject({ NGINX_API_UPSTREAM: 'api:8000', NGINX_RESOLVER: '127.0.0.11', NGINX_OCSP_STAPLING: 'off' });
      const t = n.configTest();
      expect(t.output).toMatch(/test is successful/);
      expect(t.status).toBe(0);
    } finally {
      await n.stop();
    }
  });

  it('starts on other ports when one chosen for it is taken before nginx binds it', async () => {
    const n = await prepareNginx({ cert, key });
    // Another process takes the status port between the harness choosing it and nginx binding it.
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(n.ports.status, '127.0.0.1', r));
    const taken = n.ports.status;
    try {
      await n.start();
      expect(n.ports.status).not.toBe(taken);
      expect(n.env.NGINX_STATUS_PORT).toBe(String(n.ports.status));
      const status = await new Promise<number>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: n.ports.status, path: '/healthz' }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      await n.stop();
      squatter.close();
    }
  });

  it('fails nginx -t on a broken configuration (the check can fail)', async () => {
    const n = await prepareNginx({ cert, key, overrides: { NGINX_CLIENT_MAX_BODY_SIZE: 'not-a-size' } });
    try {
      expect(n.configTest().status).not.toBe(0);
    } finally {
      await n.stop();
    }
  });

  it('staples OCSP only when switched on (a self-signed certificate names no responder)', async () => {
    const off = await prepareNginx({ cert, key, overrides: { NGINX_OCSP_STAPLING: 'off' } });
    const on = await prepareNginx({ cert, key, overrides: { NGINX_OCSP_STAPLING: 'on' } });
    try {
      expect(off.configTest().output).not.toMatch(/stapling/);
      const t = on.configTest();
      expect(t.status).toBe(0);
      expect(t.output).toMatch(/"ssl_stapling" ignored/);
    } finally {
      await off.stop();
      await on.stop();
    }
  });
  it('answers 429 to a client past its concurrent-connection limit', async () => {
    // A slow stand-in upstream keeps the first request open while the second arrives.
    let arrived = 0;
    const slow = http.createServer((_req, res) => {
      arrived += 1;
      setTimeout(() => res.end('{}'), 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const n = await prepareNginx({ cert, key, apiUpstream: `127.0.0.1:${(slow.address() as import('node:net').AddressInfo).port}`, overrides: { NGINX_LIMIT_CONN_PER_IP: '1' } });
    try {
      await n.start();
      const get = () => new Promise<number>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: n.ports.https, path: '/health/live', servername: 'localhost', ca: fs.readFileSync(cert), agent: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
      });
      const first = get();
      await waitFor(() => arrived === 1, 10000, 'the first request to reach the upstream');
      expect(await get()).toBe(429);
      expect(await first).toBe(200);
    } finally {
      await n.stop();
      slow.close();
    }
  });
});

describe('nginx in front of the api', () => {
  it('refuses TLS 1.0 and 1.1 even with every cipher allowed on the client', async () => {
    expect(await sClientConnects(nginx.ports.https, '-tls1')).toBe(false);
    expect(await sClientConnects(nginx.ports.https, '-tls1_1')).toBe(false);
  });

  it('the TLS 1.0/1.1 probe does connect to a server that allows them (so it can fail)', async () => {
    const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      expect(await sClientConnects(port, '-tls1_1')).toBe(true);
    } finally {
      server.close();
    }
  });

  it('accepts TLS 1.2 and 1.3', async () => {
    expect(await tlsVersion(nginx.ports.https, 'TLSv1.2')).toBe('TLSv1.2');
    expect(await tlsVersion(nginx.ports.https, 'TLSv1.3')).toBe('TLSv1.3');
  });

  it('redirects plain HTTP to the public URL with 308, keeping path and query', async () => {
    const a = await request({ plain: true, path: '/api/products?limit=5' });
    expect(a.status).toBe(308);
    expect(a.headers.location).toBe(`https://localhost:${nginx.ports.https}/api/products?limit=5`);
  });

  it('serves ACME challenges on plain HTTP from the webroot', async () => {
    fs.writeFileSync(path.join(nginx.dir, 'acme', '.well-known', 'acme-challenge', 'token-abc'), 'token-abc.thumbprint');
    const a = await request({ plain: true, path: '/.well-known/acme-challenge/token-abc' });
    expect(a.status).toBe(200);
    expect(a.body).toBe('token-abc.thumbprint');
    expect((await request({ plain: true, path: '/.well-known/acme-challenge/missing' })).status).toBe(404);
  });

  it('proxies to the api and sends every security header exactly once on a 200', async () => {
    const a = await request({ path: '/health/live' });
    expect(a.status).toBe(200);
    expectSecurityHeadersOnce(a);
    expect(a.headers.server).toBe('nginx');
  });

  it('passes the console its own CSP (scripts and styles from this origin) once, with every other security header', async () => {
    const a = await request({ path: '/console/sign-in' });
    expect(a.status).toBe(200);
    const counts = headerCounts(a);
    expect(Object.fromEntries(SECURITY_HEADERS.map((h) => [h, counts[h] ?? 0]))).toEqual(Object.fromEntries(SECURITY_HEADERS.map((h) => [h, 1])));
    expect(a.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  });

  it('sends every security header exactly once on 4xx answers from the api and from nginx', async () => {
    const unauthorised = await request({ path: '/api/status' });
    expect(unauthorised.status).toBe(401);
    expectSecurityHeadersOnce(unauthorised);
    const notFound = await request({ path: '/no-such-thing' });
    expect(notFound.status).toBe(404);
    expectSecurityHeadersOnce(notFound);
  });

  it.each(['/metrics', '/METRICS', '/metrics/', '//metrics', '/metrics?x=1', '/internal/anything', '/stub_status', '/nginx_status'])('does not expose %s', async (p) => {
    const a = await request({ path: p });
    expect(a.status).toBe(404);
    expect(JSON.parse(a.body)).toEqual({ error: { code: 'not_found', message: 'no such endpoint' } });
    expectSecurityHeadersOnce(a);
  });

  it('serves stub_status on the internal listener only', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: nginx.ports.status, path: '/stub_status' }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toMatch(/^Active connections: \d+/);
  });

  it('answers 413 with the error body past client_max_body_size', async () => {
    const a = await request({ method: 'POST', path: '/api/products', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: Buffer.alloc(2 * 1024 * 1024, 0x20) });
    expect(a.status).toBe(413);
    expect(JSON.parse(a.body).error.code).toBe('payload_too_large');
    expectSecurityHeadersOnce(a);
  });

  it('generates a request id when the client sends none and passes it to the api', async () => {
    const a = await request({ path: '/health/live' });
    const id = a.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await api.waitForLog((l) => l.request_id === id, 10000);
  });

  it('round-trips a client request id, and replaces one that is not a safe id', async () => {
    const a = await request({ path: '/health/live', headers: { 'x-request-id': 'client-id-42.abc_DEF' } });
    expect(a.headers['x-request-id']).toBe('client-id-42.abc_DEF');
    await api.waitForLog((l) => l.request_id === 'client-id-42.abc_DEF', 10000);
    const b = await request({ path: '/health/live', headers: { 'x-request-id': 'has spaces and "quotes"' } });
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const log = nginx.accessLog().find((l) => l.request_id === 'client-id-42.abc_DEF');
    expect(log).toMatchObject({ method: 'GET', uri: '/health/live', status: 200, tls_protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
  });

  it('overwrites X-Forwarded-For: the api sees the real peer, not what the client claims', async () => {
    const a = await request({ path: '/health/live', headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'xff-probe-1' } });
    expect(a.status).toBe(200);
    const line = await api.waitForLog((l) => l.request_id === 'xff-probe-1', 10000);
    expect(line.ip).toBe('127.0.0.1');
  });

  it('answers 429 past the API burst, with the error body and every security header once', async () => {
    await drainApiBucket();
    const answers = await Promise.all(Array.from({ length: 40 }, () => request({ path: '/api/openapi.json' })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(20);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(JSON.parse(limited[0]!.body)).toEqual({ error: { code: 'rate_limited', message: 'too many requests: slow down and retry' } });
    expectSecurityHeadersOnce(limited[0]!);
  });

  it('keeps limiting a client that sends a different X-Forwarded-For each time', async () => {
    await drainApiBucket();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => request({ path: '/api/openapi.json', headers: { 'x-forwarded-for': `198.51.100.${i + 1}`, 'x-real-ip': `198.51.100.${i + 1}` } })));
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
  });

  it('writes one JSON access-log line per request', () => {
    const lines = nginx.accessLog();
    expect(lines.length).toBeGreaterThan(50);
    for (const l of lines) expect(l).toEqual(expect.objectContaining({ time: expect.any(String), request_id: expect.any(String), status: expect.any(Number), remote_addr: '127.0.0.1' }));
  });
});

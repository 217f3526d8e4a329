import type http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { createTestApi, type TestApi } from '../../../test/support/api';

/**
 * ApiErrorRatioHigh fires on the share of 5xx in http_requests_total. These requests come from a
 * client without a token, written byte for byte on a socket (no client library tidies them up):
 * none may answer 5xx or be counted as one, or anyone could page the operators.
 */
describe('anonymous requests cannot fire ApiErrorRatioHigh', () => {
  let t: TestApi;
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    // A high per-address limit, so the limiter (429, a 4xx anyway) does not hide what the app answers.
    t = await createTestApi({ env: { RATE_LIMIT_PER_IP: '100000' } });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  /** Sends raw bytes and returns the status of the answer (0 when the server closed without one). */
  function raw(bytes: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setTimeout(10000, () => socket.destroy(new Error('no answer within 10 s')));
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.includes('\r\n')) socket.end();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
      // No half-close: the server would take it for a client gone away and drop the answer.
      socket.write(bytes);
    });
  }

  const percentJunk = fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C3%28', '%ED%A0%80', '%00', '%2F..%2F', '%25', '%c0%af', '%FF');
  const pathPart = fc.oneof(fc.constantFrom('products', 'tokens', 'monitoring', 'publish', 'status', 'failed', 'retry', 'openapi.json', '..', ''), fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/), percentJunk);
  const requestLine = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    root: fc.constantFrom('/api', '/api/products', '/api/monitoring/publish', '/health', ''),
    parts: fc.array(pathPart, { maxLength: 4 }),
    query: fc.constantFrom('', '?cursor=%E0', '?limit=-1', '?cursor=eyJ0IjoiMCIsImkiOjF9', '?status=x&status=y', '?a=%ZZ'),
    authorization: fc.constantFrom(undefined, 'Bearer', 'Bearer fry_forged', 'Basic Zm9vOmJhcg==', 'Bearer a b'),
    contentType: fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded'),
    contentEncoding: fc.constantFrom(undefined, 'gzip', 'br', 'deflate', 'compress', 'gzip, br', 'identity'),
    body: fc.constantFrom('', '{', '{"data_id":"x"}', 'not json', '\u0000\u00ff'),
  });

  it('never answers or counts a 5xx', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(requestLine, async (r) => {
        const target = `${r.root}/${r.parts.join('/')}${r.query}`.replace(/^\/\//, '/');
        const body = Buffer.from(r.body, 'latin1');
        const head = [`${r.method} ${target || '/'} HTTP/1.1`, 'Host: ferry.test', 'Connection: close', `Content-Length: ${body.length}`];
        if (r.authorization) head.push(`Authorization: ${r.authorization}`);
        if (r.contentType) head.push(`Content-Type: ${r.contentType}`);
        if (r.contentEncoding) head.push(`Content-Encoding: ${r.contentEncoding}`);
        const status = await raw(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
        statuses.add(status);
        return status < 500;
      }),
      { numRuns: 300 },
    );
    const counted = (await t.deps.metrics.httpRequests.get()).values;
    expect(counted.filter((v) => String(v.labels.status).startsWith('5'))).toEqual([]);
    // The run reached the app's refusals, not only the HTTP parser's.
    expect({ answered: [...statuses].every((s) => s > 0), refusals: [400, 401].every((s) => statuses.has(s)) }).toEqual({ answered: true, refusals: true });
  });
});

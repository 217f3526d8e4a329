import path from 'node:path';
import zlib from 'node:zlib';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { writeFile } from '../../../test/support/dirs';
import { registryCounts, seedProduct } from '../../../test/support/products';

/** Hostile and malformed requests: each answers a coded 4xx (or a 503 for a dependency), never a 500, and writes nothing. */
describe('hostile requests', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(() => t.close());

  async function snapshot() {
    const counts = await t.deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    const tokens = await t.db.pool.query('SELECT count(*)::int AS n FROM api_tokens');
    return { ...(await registryCounts(t.db.pool)), jobs: Object.values(counts).reduce((a, b) => a + b, 0), tokens: tokens.rows[0].n as number };
  }

  /** Sends a request that must be refused: the exact status and body, and nothing written anywhere. */
  async function expectRefused(send: () => request.Test, status: number, code: string, message?: string) {
    const before = await snapshot();
    const res = await send();
    expect({ status: res.status, body: res.body }).toEqual({
      status,
      body: { error: { code, message: message ?? expect.any(String), ...(res.body.error?.details ? { details: expect.anything() } : {}) } },
    });
    expect(await snapshot()).toEqual(before);
    return res;
  }

  describe('malformed paths and bodies', () => {
    it('answers 400 malformed_path for a broken percent-encoding in a path parameter, with or without a token', async () => {
      const message = 'the request path has a malformed percent-encoding: encode it with encodeURIComponent';
      await expectRefused(() => request(t.app).get('/api/products/%E0%A4%A'), 400, 'malformed_path', message);
      await expectRefused(() => request(t.app).get('/api/products/%E0%A4%A').set(authHeader()), 400, 'malformed_path', message);
      await expectRefused(() => request(t.app).post('/api/products/%ZZ/publish').set(authHeader()), 400, 'malformed_path', message);
    });

    it('answers 415 unsupported_content_encoding for a body encoding other than identity or gzip', async () => {
      const send = (encoding: string) => () =>
        request(t.app).post('/api/products').set(authHeader()).set('Content-Type', 'application/json').set('Content-Encoding', encoding).send('{"data_id":"x"}');
      await expectRefused(send('br'), 415, 'unsupported_content_encoding', 'the body Content-Encoding is not supported: send identity or gzip');
      await expectRefused(send('compress'), 415, 'unsupported_content_encoding');
      await expectRefused(send('deflate'), 415, 'unsupported_content_encoding');
    });

    it('answers 400 malformed_body for a gzip body that does not decompress', async () => {
      const corrupt = Buffer.concat([zlib.gzipSync(Buffer.from('{"data_id":"x"}')).subarray(0, 12), Buffer.from('garbage')]);
      await expectRefused(
        () => request(t.app).post('/api/products').set(authHeader()).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send(corrupt),
        400,
        'malformed_body',
      );
    });

    it('refuses an anonymous request with 401 before reading its body', async () => {
      await expectRefused(
        () => request(t.app).post('/api/products').set('Content-Type', 'application/json').set('Content-Encoding', 'br').send('not brotli'),
        401,
        'unauthorized',
      );
    });

    it('answers 408 body_timeout, not a 5xx, when a client does not finish its body in time', async () => {
      const slow = await createTestApi({ env: { REQUEST_TIMEOUT_SECONDS: '1' } });
      try {
        const server = slow.app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        const port = (server.address() as { port: number }).port;
        const http = await import('node:http');
        const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
          const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/api/products', headers: { ...authHeader(), 'Content-Type': 'application/json', 'Content-Length': '100' } }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
          });
          req.on('error', reject);
          req.write('{"data_id":');
        });
        server.closeAllConnections();
        server.close();
        expect(answer).toEqual({ status: 408, body: { error: { code: 'body_timeout', message: 'the request body did not arrive within 1 s: send it faster' } } });
      } finally {
        await slow.close();
      }
    });
  });

  describe('OPTIONS', () => {
    it('answers an anonymous OPTIONS with 401 and no Allow list', async () => {
      for (const p of ['/api/products', '/api/products/x', '/api/tokens', '/api/openapi.json', '/api/monitoring/publish/status']) {
        const res = await request(t.app).options(p);
        expect({ path: p, status: res.status, allow: res.headers.allow, body: res.body }).toEqual({
          path: p,
          status: 401,
          allow: undefined,
          body: { error: { code: 'unauthorized', message: expect.any(String) } },
        });
      }
    });
  });

  describe('cursors', () => {
    const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged: Array<[string, string]> = [
      ['a timestamp PostgreSQL cannot read', cursorOf({ t: '0', i: 1 })],
      ['a date-like word', cursorOf({ t: 'May 5', i: 1 })],
      ['a negative year', cursorOf({ t: '-000001-01-01', i: 1 })],
      ['an impossible date', cursorOf({ t: '2024-02-30T00:00:00.000000Z', i: 1 })],
      ['year zero', cursorOf({ t: '0000-01-01T00:00:00.000000Z', i: 1 })],
      ['milliseconds instead of microseconds', cursorOf({ t: '2024-01-01T00:00:00.000Z', i: 1 })],
      ['an id beyond bigint', cursorOf({ t: '2024-01-01T00:00:00.000000Z', i: 1e300 })],
      ['a negative id', cursorOf({ t: '2024-01-01T00:00:00.000000Z', i: -1 })],
      ['an extra field', cursorOf({ t: '2024-01-01T00:00:00.000000Z', i: 1, x: 1 })],
      ['fields in another order', cursorOf({ i: 1, t: '2024-01-01T00:00:00.000000Z' })],
      ['standard base64 padding', `${cursorOf({ t: '2024-01-01T00:00:00.000000Z', i: 1 })}==`],
      ['not base64 at all', '!!!!'],
    ];
    it.each(forged)('answers 400 invalid_cursor for %s', async (_what, cursor) => {
      await expectRefused(
        () => request(t.app).get('/api/products').query({ cursor }).set(authHeader()),
        400,
        'invalid_cursor',
        'cursor is not one this API issued: pass next_cursor from the previous page unchanged',
      );
    });

    it('still pages with the cursors it issues', async () => {
      for (const id of ['cur-a', 'cur-b', 'cur-c']) await seedProduct(t.db.pool, { data_id: id });
      const seen: string[] = [];
      let cursor: string | null | undefined;
      do {
        const res = await request(t.app).get('/api/products').query({ limit: 1, ...(cursor ? { cursor } : {}) }).set(authHeader());
        expect(res.status).toBe(200);
        seen.push(...(res.body.products as { data_id: string }[]).map((p) => p.data_id));
        cursor = res.body.next_cursor as string | null;
      } while (cursor);
      expect(seen.filter((id) => id.startsWith('cur-'))).toEqual(['cur-a', 'cur-b', 'cur-c']);
    });
  });

  describe('tokens', () => {
    it.each(['bootstrap-admin', 'Bootstrap-Admin', 'ferry-api', 'anonymous'])('refuses to create a token named %s (400 reserved_token_name)', async (name) => {
      await expectRefused(
        () => request(t.app).post('/api/tokens').set(authHeader()).send({ name, scopes: ['read'] }),
        400,
        'reserved_token_name',
        `name: "${name}" is reserved for the API's own identities: pick another name`,
      );
    });
  });

  describe('registration refusals', () => {
    it('names a missing absolute stage_path relative to STAGE_ROOT, never by its server path', async () => {
      const absolute = path.join(t.roots.stageRoot, 'img/missing.fits');
      const res = await expectRefused(
        () => request(t.app).post('/api/products').set(authHeader()).send({ data_id: 'missing', data_type: 'image', stage_path: absolute }),
        422,
        'source_missing',
        'stage_path STAGE_ROOT/img/missing.fits does not exist under STAGE_ROOT: write the product first',
      );
      expect(res.text).not.toContain(t.roots.stageRoot);
    });
  });

  describe('metadata keys', () => {
    const raw = (body: string) => request(t.app).post('/api/products').set(authHeader()).set('Content-Type', 'application/json').send(body);

    it('keeps __proto__ and constructor keys as data, and a registration without them is a different product', async () => {
      await writeFile(t.roots.stageRoot, 'img/proto.fits', 'abc');
      const body = '{"data_id":"proto","data_type":"image","stage_path":"img/proto.fits","metadata":{"__proto__":{"polluted":true},"constructor":"c","band":"L"}}';
      const created = await raw(body);
      expect(created.status).toBe(201);
      expect(JSON.parse(created.text).metadata).toEqual(JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","band":"L"}'));
      const stored = await t.db.pool.query("SELECT metadata ? '__proto__' AS proto, metadata ? 'constructor' AS ctor FROM products WHERE data_id = 'proto'");
      expect(stored.rows[0]).toEqual({ proto: true, ctor: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();

      await expectRefused(
        () => raw('{"data_id":"proto","data_type":"image","stage_path":"img/proto.fits","metadata":{"constructor":"c","band":"L"}}'),
        409,
        'data_id_conflict',
      );
      expect((await raw(body)).status).toBe(200);
    });
  });
});

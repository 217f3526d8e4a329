import request from 'supertest';
import { buildOpenApiDocument } from '../../api/openapi/openapi-document';
import { authHeader, createTestApi, TEST_ADMIN_TOKEN, type TestApi } from '../../../test/support/api';

type Caller = 'none' | 'invalid' | 'read' | 'publish' | 'admin';
const RANK = { read: 0, publish: 1, admin: 2 } as const;

interface Operation {
  method: string;
  path: string;
  scope: 'read' | 'publish' | 'admin' | undefined;
}

/** Every operation of the OpenAPI document (proved equal to the router by the registry's own test). */
function operations(): Operation[] {
  const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, Record<string, unknown>>> };
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      out.push({ method, path, scope: op['x-required-scope'] as Operation['scope'] });
    }
  }
  return out;
}

describe('authentication and scopes', () => {
  let api: TestApi;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await createTestApi({ env: { RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_PER_TOKEN: '100000' } });
    for (const scope of ['read', 'publish', 'admin'] as const) {
      const res = await request(api.app).post('/api/tokens').set(authHeader(TEST_ADMIN_TOKEN)).send({ name: `t-${scope}`, scopes: [scope] });
      expect(res.status).toBe(201);
      tokens[scope] = res.body.token as string;
    }
  });
  afterAll(() => api.close());

  it('declares a required scope for every /api route but the OpenAPI document', () => {
    const unguarded = operations().filter((o) => o.path.startsWith('/api/') && o.path !== '/api/openapi.json' && !o.scope);
    expect(unguarded).toEqual([]);
  });

  describe.each(operations().filter((o) => o.scope))('$method $path (needs $scope)', (op) => {
    const url = op.path.replace(/\{[^}]+\}/g, 'no-such-thing');
    const call = (caller: Caller) => {
      const req = request(api.app)[op.method as 'get'](url);
      if (caller === 'invalid') req.set(authHeader('fry_not-a-real-token'));
      else if (caller !== 'none') req.set(authHeader(tokens[caller] as string));
      return op.method === 'get' || op.method === 'delete' ? req : req.send({});
    };

    it('answers 401 unauthorized without a token, and with an unknown one', async () => {
      for (const caller of ['none', 'invalid'] as const) {
        const res = await call(caller);
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
      }
    });

    it.each(['read', 'publish', 'admin'] as const)('with a %s token: 403 naming the scope below it, past the guard otherwise', async (caller) => {
      const res = await call(caller);
      if (RANK[caller] < RANK[op.scope!]) {
        expect(res.status).toBe(403);
        expect(res.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining(`"${op.scope}" scope`) });
      } else {
        expect([401, 403]).not.toContain(res.status);
        expect(res.status).toBeLessThan(500);
      }
    });
  });

  it('creates a token, lets it in, records its use, and shuts it out once revoked', async () => {
    const created = await request(api.app).post('/api/tokens').set(authHeader(tokens.admin!)).send({ name: 'pipeline-b', scopes: ['publish'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'pipeline-b', scopes: ['publish'], last_used_at: null, revoked_at: null });
    const token = created.body.token as string;

    expect((await request(api.app).get('/api/status').set(authHeader(token))).status).toBe(200);
    // last_used_at is written asynchronously (fire and forget), at most once a minute.
    let listed: { name: string; last_used_at: string | null; token?: string }[] = [];
    for (const until = Date.now() + 10000; Date.now() < until;) {
      listed = (await request(api.app).get('/api/tokens').set(authHeader(tokens.admin!))).body.tokens;
      if (listed.find((t) => t.name === 'pipeline-b')?.last_used_at) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(listed.find((t) => t.name === 'pipeline-b')?.last_used_at).toEqual(expect.any(String));
    expect(JSON.stringify(listed)).not.toContain(token);

    const revoked = await request(api.app).delete('/api/tokens/pipeline-b').set(authHeader(tokens.admin!));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const after = await request(api.app).get('/api/status').set(authHeader(token));
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    // POST …/revoke is the same operation, and idempotent.
    const again = await request(api.app).post('/api/tokens/pipeline-b/revoke').set(authHeader(tokens.admin!));
    expect(again.body.revoked_at).toBe(revoked.body.revoked_at);
  });

  it('refuses a duplicate name with 409 and an unknown scope with 400', async () => {
    const dup = await request(api.app).post('/api/tokens').set(authHeader(tokens.admin!)).send({ name: 't-read', scopes: ['read'] });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('token_name_taken');
    const bad = await request(api.app).post('/api/tokens').set(authHeader(tokens.admin!)).send({ name: 'x', scopes: ['root'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
  });

  it('refuses a malformed Authorization header as unauthorized', async () => {
    const res = await request(api.app).get('/api/status').set('Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('unknown or revoked');
  });
});

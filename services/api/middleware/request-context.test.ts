import request from 'supertest';
import { authHeader, createTestApi, TEST_ADMIN_TOKEN, type TestApi } from '../../../test/support/api';
import { waitFor } from '../../../test/support/wait-for';
import { requestIdFrom } from './request-context';

describe('request context, access log and security headers', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi();
  });
  afterAll(() => api.close());

  // The access line is written when the response finishes, which can trail the client's read.
  const accessLine = (id: string) =>
    waitFor(() => api.logs().find((l) => l.message === 'request' && l.request_id === id), 5000, `the access log line of ${id}`);

  it('logs one access line with the request id, route pattern and token name, and never the token', async () => {
    const res = await request(api.app).get('/api/products/some-data-id').set(authHeader(TEST_ADMIN_TOKEN)).set('X-Request-Id', 'trace-abc.123');
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
    const line = await accessLine('trace-abc.123');
    expect(line).toMatchObject({
      level: 'info',
      service: expect.stringMatching(/^ferry-api/),
      method: 'GET',
      route: '/api/products/:data_id',
      status: res.status,
      duration_ms: expect.any(Number),
      token_name: 'bootstrap-admin',
      timestamp: expect.any(String),
    });
    expect(api.logs().filter((l) => l.request_id === 'trace-abc.123' && l.message === 'request')).toHaveLength(1);
    const all = JSON.stringify(api.logs());
    expect(all).not.toContain(TEST_ADMIN_TOKEN);
    expect(all).not.toMatch(/Bearer /);
  });

  it('replaces an unsafe or over-long X-Request-Id with a generated UUID', async () => {
    const res = await request(api.app).get('/health/live').set('X-Request-Id', 'bad id; "quoted"');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(129))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(128))).toBe('x'.repeat(128));
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('labels an unknown route `unmatched`, never with the raw URL', async () => {
    const res = await request(api.app).get('/no/such/path?secret=1').set('X-Request-Id', 'unmatched-1');
    expect(res.status).toBe(404);
    await new Promise((r) => setImmediate(r));
    expect(await accessLine('unmatched-1')).toMatchObject({ route: 'unmatched', status: 404 });
    const text = await api.deps.metrics.registry.metrics();
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"/);
    expect(text).not.toContain('/no/such/path');
  });

  it('labels the route pattern even when the handler fails inside a sub-router', async () => {
    const res = await request(api.app).post('/api/products').set(authHeader(TEST_ADMIN_TOKEN)).set('X-Request-Id', 'bad-body-1').send({});
    expect(res.status).toBe(400);
    await new Promise((r) => setImmediate(r));
    expect(await accessLine('bad-body-1')).toMatchObject({ route: '/api/products', status: 400 });
  });

  it('logs the client address nginx appended, not one the client made up', async () => {
    // nginx (a trusted loopback hop) appends the real peer to whatever X-Forwarded-For the client sent.
    await request(api.app).get('/health/live').set('X-Forwarded-For', '9.9.9.9, 203.0.113.7').set('X-Request-Id', 'xff-1');
    await new Promise((r) => setImmediate(r));
    expect(await accessLine('xff-1')).toMatchObject({ ip: '203.0.113.7' });
  });

  it('sets no header that nginx owns, keeps helmet\'s others, and never caches', async () => {
    const res = await request(api.app).get('/health/live');
    for (const owned of ['strict-transport-security', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'permissions-policy']) {
      expect(res.headers[owned]).toBeUndefined();
    }
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers['x-dns-prefetch-control']).toBe('off');
    expect(res.headers['x-permitted-cross-domain-policies']).toBe('none');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

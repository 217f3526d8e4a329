import Ajv2020 from 'ajv/dist/2020';
import type { Express } from 'express';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { writeFile } from '../../../test/support/dirs';
import { buildOpenApiDocument } from './openapi-document';

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Every `METHOD /path` the Express app serves, found by walking its router and mounted sub-routers. */
function routerOperations(app: Express): string[] {
  const ops: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`route path ${String(layer.route.path)} is not a string: document it by hand`);
        const full = `${prefix}${layer.route.path === '/' && prefix ? '' : layer.route.path}`;
        for (const m of Object.keys(layer.route.methods)) if (m !== '_all') ops.push(`${m.toUpperCase()} ${full.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return ops.sort();
}

function documentOperations(doc: ReturnType<typeof buildOpenApiDocument>): string[] {
  return Object.entries(doc.paths)
    .flatMap(([p, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();
}

describe('OpenAPI document', () => {
  let t: TestApi;
  const doc = buildOpenApiDocument();
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc, 'openapi');
  /** Validates a response body against the schema the document gives for that path, method and status. */
  function expectDocumented(pathKey: string, method: string, status: number, body: unknown) {
    const pointer = `openapi#/paths/${pathKey.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/application~1json/schema`;
    const validate = ajv.getSchema(pointer);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    expect(validate(body) ? [] : validate.errors).toEqual([]);
  }

  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(() => t.close());

  it('documents exactly the routes the router serves, both ways', () => {
    // The console's HTML pages (docs/console.md) are not part of the JSON API the document describes.
    const served = routerOperations(t.app).filter((op) => !op.split(' ')[1]!.startsWith('/console'));
    const documented = documentOperations(doc);
    expect(served.length).toBeGreaterThan(10);
    expect(served.filter((op) => !documented.includes(op))).toEqual([]);
    expect(documented.filter((op) => !served.includes(op))).toEqual([]);
  });

  it('is OpenAPI 3.1 and every guarded operation names its scope and the 401/403 answers', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { security?: unknown[]; responses: Record<string, unknown> }>)) {
        const guarded = op.security === undefined || op.security.length > 0;
        if (guarded) expect({ op: `${method} ${p}`, has401: '401' in op.responses, has403: '403' in op.responses }).toEqual({ op: `${method} ${p}`, has401: true, has403: true });
      }
    }
  });

  it('is served at GET /api/openapi.json without a token', async () => {
    const res = await request(t.app).get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('describes the real responses of the registry routes', async () => {
    await writeFile(t.roots.stageRoot, 'img/doc.fits', 'abc');
    const created = await request(t.app).post('/api/products').set(authHeader()).send({ data_id: 'doc1', data_type: 'image', stage_path: 'img/doc.fits' });
    expectDocumented('/api/products', 'post', 201, created.body);
    await writeFile(t.roots.stageRoot, 'img/doc-batch.fits', 'abcd');
    const batch = await request(t.app).post('/api/products/batch').set(authHeader()).send({ products: [
      { data_id: 'doc-batch', data_type: 'image', stage_path: 'img/doc-batch.fits' },
      { data_id: 'doc1', data_type: 'image', stage_path: 'img/doc.fits' },
      { data_id: 'doc-escape', data_type: 'image', stage_path: '../x.fits' },
      { stage_path: 'img/doc.fits' },
    ] });
    expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([201, 200, 400, 400]);
    expectDocumented('/api/products/batch', 'post', 200, batch.body);
    expectDocumented('/api/products', 'get', 200, (await request(t.app).get('/api/products').set(authHeader())).body);
    expectDocumented('/api/products/{data_id}', 'get', 200, (await request(t.app).get('/api/products/doc1').set(authHeader())).body);
    expectDocumented('/api/products/{data_id}/publish', 'post', 202, (await request(t.app).post('/api/products/doc1/publish').set(authHeader())).body);
    expectDocumented('/api/monitoring/publish/status', 'get', 200, (await request(t.app).get('/api/monitoring/publish/status').set(authHeader())).body);
    expectDocumented('/api/monitoring/publish/failed', 'get', 200, (await request(t.app).get('/api/monitoring/publish/failed').set(authHeader())).body);
    expectDocumented('/api/monitoring/publish/retry/{data_id}', 'post', 200, (await request(t.app).post('/api/monitoring/publish/retry/doc1').set(authHeader())).body);
    expectDocumented('/api/monitoring/publish/retry-all', 'post', 200, (await request(t.app).post('/api/monitoring/publish/retry-all').set(authHeader())).body);
    expectDocumented('/api/status', 'get', 200, (await request(t.app).get('/api/status').set(authHeader())).body);
    const missing = await request(t.app).get('/api/products/nope').set(authHeader());
    expectDocumented('/api/products/{data_id}', 'get', 404, missing.body);
    expectDocumented('/api/monitoring/publish/reconcile', 'get', 200, (await request(t.app).get('/api/monitoring/publish/reconcile').set(authHeader())).body);
  });

  it('is generated from the response schemas: a body that strays from them fails validation', async () => {
    const product = (await request(t.app).get('/api/products/doc1').set(authHeader())).body as Record<string, unknown>;
    const pointer = 'openapi#/paths/~1api~1products~1{data_id}/get/responses/200/content/application~1json/schema';
    const validate = ajv.getSchema(pointer)!;
    expect(validate(product)).toBe(true);
    expect(validate({ ...product, lease_token: 'secret' })).toBe(false);
    expect(validate({ ...product, status: 'lost' })).toBe(false);
    expect(validate({ ...product, created_at: 'yesterday' })).toBe(false);
    const { events: _events, ...withoutEvents } = product;
    expect(validate(withoutEvents)).toBe(false);
  });
});

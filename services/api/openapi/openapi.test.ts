import Ajv2020 from 'ajv/dist/2020';
import type { Express } from 'express';
import path from 'node:path';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { astroFixtures, copyFixture } from '../../../test/support/astro-fixtures';
import { writeFile } from '../../../test/support/dirs';
import { publishProduct } from '../../core/domain/publishing/publish-product';
import { buildOpenApiDocument } from './openapi-document';

jest.setTimeout(120_000);

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

describe('OpenAPI document', () => {
  let t: TestApi;

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

  it('describes the real responses of the health, system and token routes', async () => {
    for (const [p, status] of [['/health/live', 200], ['/health/ready', 200], ['/health/startup', 200], ['/health', 200]] as const) {
      const res = await request(t.app).get(p);
      expect({ p, status: res.status }).toEqual({ p, status });
      expectDocumented(p, 'get', status, res.body);
    }
    const detailed = await request(t.app).get('/health/detailed').set(authHeader());
    expectDocumented('/health/detailed', 'get', detailed.status, detailed.body);
    expectDocumented('/api/metrics/system', 'get', 200, (await request(t.app).get('/api/metrics/system').set(authHeader())).body);
    const created = await request(t.app).post('/api/tokens').set(authHeader()).send({ name: 'doc-reader', scopes: ['read'] });
    expectDocumented('/api/tokens', 'post', 201, created.body);
    expectDocumented('/api/tokens', 'get', 200, (await request(t.app).get('/api/tokens').set(authHeader())).body);
    expectDocumented('/api/tokens/{name}/revoke', 'post', 200, (await request(t.app).post('/api/tokens/doc-reader/revoke').set(authHeader())).body);
    expectDocumented('/api/tokens/{name}', 'delete', 200, (await request(t.app).delete('/api/tokens/doc-reader').set(authHeader())).body);
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

describe('OpenAPI document: lineage and search', () => {
  let t: TestApi;

  beforeAll(async () => {
    const types = path.resolve(__dirname, '../../../config/product-types.yaml');
    const [api, fx] = await Promise.all([createTestApi({ env: { PRODUCT_TYPES_CONFIG: types, PUBLISH_MODE: 'copy' } }), astroFixtures()]);
    t = api;
    await copyFixture(fx, 'obs.ms', path.join(t.roots.stageRoot, 'ms/obs1.ms'));
    await copyFixture(fx, 'img-a.fits', path.join(t.roots.stageRoot, 'img/a.fits'));
    await request(t.app).post('/api/products').set(authHeader()).send({ data_id: 'ms-1', data_type: 'ms', stage_path: 'ms/obs1.ms', auto_publish: false }).expect(201);
    await request(t.app).post('/api/products').set(authHeader())
      .send({ data_id: 'img-a', data_type: 'image', stage_path: 'img/a.fits', derived_from: ['ms-1'], auto_publish: false }).expect(201);
    await request(t.app).post('/api/products/img-a/publish').set(authHeader()).expect(202);
    expect((await publishProduct({ pool: t.db.pool, config: t.config }, 'img-a')).outcome).toBe('published');
  });
  afterAll(() => t.close());

  it('describes the real responses of the lineage and search routes', async () => {
    const desc = await request(t.app).get('/api/products/ms-1/descendants').set(authHeader());
    expect(desc.body.products).toHaveLength(1);
    expectDocumented('/api/products/{data_id}/descendants', 'get', 200, desc.body);
    expectDocumented('/api/products/{data_id}/ancestors', 'get', 200, (await request(t.app).get('/api/products/img-a/ancestors').set(authHeader())).body);
    const found = await request(t.app).get('/api/search/products').query({ ra: 150.25, dec: 2.5, radius: 1 }).set(authHeader());
    expect(found.body.products).toHaveLength(1);
    expectDocumented('/api/search/products', 'get', 200, found.body);
    expectDocumented('/api/products/{data_id}/ancestors', 'get', 404, (await request(t.app).get('/api/products/nope/ancestors').set(authHeader())).body);
  });
});

import path from 'node:path';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { astroFixtures, copyFixture, type AstroFixtures } from '../../../test/support/astro-fixtures';
import { registryCounts } from '../../../test/support/products';
import type { AddressInfo } from 'node:net';
import { runCaptured } from '../../cli/cli-test-kit';
import { publishProduct } from '../../core/domain/publishing/publish-product';
import { TEST_ADMIN_TOKEN } from '../../../test/support/api';

jest.setTimeout(120_000);

const TYPES_FILE = path.resolve(__dirname, '../../../config/product-types.yaml');

describe('lineage: derived_from, type rules, ancestors and descendants', () => {
  let t: TestApi;
  let fx: AstroFixtures;

  beforeAll(async () => {
    [t, fx] = await Promise.all([createTestApi({ env: { PRODUCT_TYPES_CONFIG: TYPES_FILE, PUBLISH_MODE: 'copy' } }), astroFixtures()]);
  });
  afterAll(() => t.close());

  const register = (body: object) => request(t.app).post('/api/products').set(authHeader()).send(body);
  /** A held product: request its publish, then run the worker's publish of it here. */
  async function publish(dataId: string) {
    await request(t.app).post(`/api/products/${dataId}/publish`).set(authHeader()).expect(202);
    return publishProduct({ pool: t.db.pool, config: t.config }, dataId);
  }

  async function stage(fixture: string, rel: string): Promise<string> {
    await copyFixture(fx, fixture, path.join(t.roots.stageRoot, rel));
    return rel;
  }

  /** A refusal: status, code, and nothing written to the registry. */
  async function expectRefused(body: object, status: number, code: string) {
    const before = await registryCounts(t.db.pool);
    const res = await register(body);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    expect(await registryCounts(t.db.pool)).toEqual(before);
    return res;
  }

  it('refuses a mosaic while an input is missing, unpublished or out of its time span; accepts it once they are published', async () => {
    await register({ data_id: 'ms-1', data_type: 'ms', stage_path: await stage('obs.ms', 'ms/obs1.ms'), auto_publish: false }).expect(201);
    await register({ data_id: 'img-a', data_type: 'image', stage_path: await stage('img-a.fits', 'img/a.fits'), derived_from: ['ms-1'], auto_publish: false }).expect(201);
    await register({ data_id: 'img-b', data_type: 'image', stage_path: await stage('img-b.fits', 'img/b.fits'), derived_from: ['ms-1'], auto_publish: false }).expect(201);
    await register({ data_id: 'img-far', data_type: 'image', stage_path: await stage('img-far.fits', 'img/far.fits'), auto_publish: false }).expect(201);
    const mosaicPath = await stage('mosaic.fits', 'mosaics/m.fits');
    const mosaic = (inputs: string[], id = 'mosaic-1') => ({ data_id: id, data_type: 'mosaic', stage_path: mosaicPath, derived_from: inputs, metadata: { group_id: 'g1' } });

    let res = await expectRefused(mosaic(['img-a', 'img-b', 'img-missing']), 422, 'lineage_unmet');
    expect(res.body.error.details).toEqual({ missing: ['img-missing'] });
    res = await expectRefused(mosaic(['img-a', 'img-b']), 422, 'lineage_unmet');
    expect(res.body.error.details).toEqual({ not_published: ['img-a', 'img-b'] });
    await expectRefused(mosaic([]), 422, 'lineage_unmet');
    await expectRefused(mosaic(['ms-1']), 422, 'lineage_unmet');

    for (const id of ['img-a', 'img-b', 'img-far']) expect((await publish(id)).outcome).toBe('published');
    res = await expectRefused(mosaic(['img-a', 'img-b', 'img-far']), 422, 'lineage_unmet');
    // 03:00 to 06:05 (img-far starts at 06:00 and exposes 300 s): more than the mosaic's hour.
    expect(res.body.error.details).toEqual({ span_seconds: 11100, max_span_seconds: 3600 });

    res = await register(mosaic(['img-b', 'img-a']));
    expect(res.status).toBe(201);
    const one = await request(t.app).get('/api/products/mosaic-1').set(authHeader());
    expect(one.body.derived_from).toEqual(['img-a', 'img-b']);
    // The identical registration again is the same product; other inputs are a conflict.
    expect((await register(mosaic(['img-a', 'img-b']))).status).toBe(200);
    expect((await register(mosaic(['img-a']))).body.error).toMatchObject({ code: 'data_id_conflict', details: { fields: ['derived_from'] } });
  });

  it('walks ancestors and descendants both ways, nearest first', async () => {
    const anc = await request(t.app).get('/api/products/mosaic-1/ancestors').set(authHeader());
    expect(anc.status).toBe(200);
    expect(anc.body).toEqual({
      data_id: 'mosaic-1', direction: 'ancestors', truncated: false,
      products: [
        { data_id: 'img-a', data_type: 'image', status: 'published', depth: 1, via: ['mosaic-1'] },
        { data_id: 'img-b', data_type: 'image', status: 'published', depth: 1, via: ['mosaic-1'] },
        { data_id: 'ms-1', data_type: 'ms', status: 'staging', depth: 2, via: ['img-a', 'img-b'] },
      ],
    });
    const desc = await request(t.app).get('/api/products/ms-1/descendants?depth=1').set(authHeader());
    expect(desc.body.products.map((p: { data_id: string }) => p.data_id)).toEqual(['img-a', 'img-b']);
    const all = await request(t.app).get('/api/products/ms-1/descendants?limit=2').set(authHeader());
    expect(all.body).toMatchObject({ truncated: true, products: [{ data_id: 'img-a' }, { data_id: 'img-b' }] });
    expect((await request(t.app).get('/api/products/nope/ancestors').set(authHeader())).body.error.code).toBe('product_not_found');
    expect((await request(t.app).get('/api/products/ms-1/ancestors?depth=0').set(authHeader())).status).toBe(400);
  });

  it('refuses metadata the type\'s schema rejects and a source of the wrong kind or name, writing nothing', async () => {
    const img = await stage('plain.fits', 'img/plain.fits');
    const res = await expectRefused({ data_id: 'bad-meta', data_type: 'image', stage_path: img, metadata: { group_id: 7 } }, 422, 'metadata_invalid');
    expect(res.body.error.details).toEqual({ problems: ['/group_id: must be string'] });
    await expectRefused({ data_id: 'bad-kind', data_type: 'ms', stage_path: img }, 422, 'type_mismatch');
    const res2 = await expectRefused({ data_id: 'bad-name', data_type: 'image', stage_path: await stage('plain.fits', 'img/plain.dat') }, 422, 'type_mismatch');
    expect(res2.body.error.message).toBe('the source is not a valid image: the name plain.dat does not match \\.fits?$');
  });

  it('finds published products by time and cone', async () => {
    const res = await request(t.app).get('/api/search/products')
      .query({ obs_since: '2026-01-02T03:05:00Z', obs_until: '2026-01-02T03:20:00Z', ra: 150.25, dec: 2.5, radius: 0.5 }).set(authHeader());
    expect(res.status).toBe(200);
    // img-a (03:00-03:05) and img-b (03:10-03:15) overlap the window; img-far does not.
    expect(res.body.products.map((p: { data_id: string }) => p.data_id)).toEqual(['img-a', 'img-b']);
    expect(res.body.products[0]).toMatchObject({ ra_deg: 150.25, dec_deg: 2.5, freq_hz: 1.405e9, distance_deg: expect.any(Number) });
    expect((await request(t.app).get('/api/search/products').set(authHeader())).body.error.code).toBe('search_unbounded');
    expect((await request(t.app).get('/api/search/products?ra=1&dec=2').set(authHeader())).body.error.code).toBe('validation_error');
  });

  it('ferryctl lists ancestors, descendants and search results from the API', async () => {
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const env = { FERRY_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, FERRY_TOKEN: TEST_ADMIN_TOKEN };
      const anc = await runCaptured(['lineage', 'mosaic-1'], env);
      expect(anc).toMatchObject({ code: 0, stderr: '' });
      expect(anc.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
        ['DEPTH', 'DATA_ID', 'TYPE'], ['1', 'img-a', 'image'], ['1', 'img-b', 'image'], ['2', 'ms-1', 'ms'],
      ]);
      const desc = await runCaptured(['lineage', 'img-a', '--descendants', '--json'], env);
      expect(JSON.parse(desc.stdout)).toMatchObject({ direction: 'descendants', products: [{ data_id: 'mosaic-1', depth: 1 }] });
      const found = await runCaptured(['search', '--ra', '150.25', '--dec', '2.5', '--radius', '1', '--status', 'published', '--json', '--all'], env);
      expect(JSON.parse(found.stdout).products.map((p: { data_id: string }) => p.data_id)).toEqual(['img-a', 'img-b', 'img-far']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { writeFile } from '../../../test/support/dirs';
import { registryCounts, seedProduct } from '../../../test/support/products';
import type { ProductStatus } from '../../core/repositories/product.types';

// A corrected product registered under a new data_id names the one it replaces in `supersedes`:
// checked against the registry, recorded in the row and its `registered` event, shown both ways.
describe('POST /api/products with supersedes', () => {
  let t: TestApi;
  let n = 0;

  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(() => t.close());

  const register = (body: unknown) => request(t.app).post('/api/products').set(authHeader()).send(body as object);
  const getProduct = (id: string) => request(t.app).get(`/api/products/${id}`).set(authHeader());

  /** A staged source for a new correction, and its registration body. */
  async function correction(supersedes: unknown, dataId = `fix${++n}`) {
    await writeFile(t.roots.stageRoot, `fixes/${dataId}.fits`, `corrected ${dataId}`);
    return { data_id: dataId, data_type: 'image', stage_path: `fixes/${dataId}.fits`, supersedes };
  }

  /** A settled product to be corrected, inserted directly in the given state. */
  async function old(status: ProductStatus): Promise<string> {
    const id = `old${++n}`;
    await seedProduct(t.db.pool, { data_id: id, status, published_path: status === 'published' ? `${id}.fits` : null });
    return id;
  }

  /** A registration that must be refused: status, exact code, and nothing written. */
  async function expectRefused(body: unknown, status: number, code: string, details: Record<string, unknown>) {
    const before = await registryCounts(t.db.pool);
    const res = await register(body);
    expect({ status: res.status, body: res.body }).toEqual({ status, body: { error: { code, message: expect.any(String), details } } });
    expect(await registryCounts(t.db.pool)).toEqual(before);
    return res;
  }

  it('registers a correction of a retracted product: 201, recorded in the row and its event, shown both ways', async () => {
    const retracted = await old('retracted');
    const body = await correction(retracted);
    const res = await register(body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ data_id: body.data_id, status: 'staging', supersedes: retracted });
    const events = await t.db.pool.query('SELECT event, detail FROM product_events WHERE data_id = $1', [body.data_id]);
    expect(events.rows).toEqual([{ event: 'registered', detail: { supersedes: retracted } }]);
    const fresh = await getProduct(body.data_id);
    expect(fresh.body).toMatchObject({ supersedes: retracted, superseded_by: null });
    expect(fresh.body.events[0]).toMatchObject({ event: 'registered', detail: { supersedes: retracted } });
    const replaced = await getProduct(retracted);
    expect(replaced.body).toMatchObject({ status: 'retracted', supersedes: null, superseded_by: body.data_id });
  });

  it.each(['published', 'failed', 'discarded'] as const)('accepts a %s product as the one superseded', async (status) => {
    const earlier = await old(status);
    const res = await register(await correction(earlier));
    expect({ status: res.status, supersedes: res.body.supersedes }).toEqual({ status: 201, supersedes: earlier });
    // The superseded product itself is left as it was: retracting or discarding it stays the operator's verb.
    expect((await getProduct(earlier)).body).toMatchObject({ status, superseded_by: res.body.data_id });
  });

  it('leaves supersedes null and superseded_by null for a product registered without it', async () => {
    const body = await correction(undefined);
    delete (body as Record<string, unknown>).supersedes;
    expect((await register(body)).body.supersedes).toBeNull();
    expect((await getProduct(body.data_id)).body).toMatchObject({ supersedes: null, superseded_by: null });
  });

  it('answers 422 supersedes_unknown for a data_id that is not registered, writing nothing', async () => {
    await expectRefused(await correction('never_registered'), 422, 'supersedes_unknown', { supersedes: 'never_registered' });
  });

  it('answers 422 supersedes_self for a product naming itself, writing nothing', async () => {
    await expectRefused(await correction('selfish', 'selfish'), 422, 'supersedes_self', { supersedes: 'selfish' });
  });

  it.each(['staging', 'publishing'] as const)('answers 409 supersedes_in_progress for a product still %s', async (status) => {
    const inFlight = await old(status);
    await expectRefused(await correction(inFlight), 409, 'supersedes_in_progress', { supersedes: inFlight, status });
  });

  it('answers 409 already_superseded naming the earlier correction, writing nothing', async () => {
    const retracted = await old('retracted');
    const first = await correction(retracted);
    expect((await register(first)).status).toBe(201);
    const res = await expectRefused(await correction(retracted), 409, 'already_superseded', { supersedes: retracted, superseded_by: first.data_id });
    expect(res.body.error.message).toContain(first.data_id);
  });

  it('answers 400 validation_error for a supersedes outside the data_id charset', async () => {
    const res = await register(await correction('bad/id'));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).toContain('supersedes');
  });

  it('treats a repeated identical registration as identical (200) and a different supersedes as a data_id conflict', async () => {
    const [a, b] = [await old('retracted'), await old('retracted')];
    const body = await correction(a);
    expect((await register(body)).status).toBe(201);
    const again = await register(body);
    expect({ status: again.status, supersedes: again.body.supersedes }).toEqual({ status: 200, supersedes: a });
    await expectRefused({ ...body, supersedes: b }, 409, 'data_id_conflict', { fields: ['supersedes'] });
  });

  it('lets only one of two concurrent corrections supersede the same product: one 201, one 409', async () => {
    const retracted = await old('retracted');
    const [x, y] = await Promise.all([register(await correction(retracted)), register(await correction(retracted))]);
    expect([x.status, y.status].sort()).toEqual([201, 409]);
    const [winner, loser] = x.status === 201 ? [x, y] : [y, x];
    expect(loser.body.error).toMatchObject({ code: 'already_superseded', details: { superseded_by: winner.body.data_id } });
    const rows = await t.db.pool.query('SELECT count(*)::int AS n FROM products WHERE supersedes = $1', [retracted]);
    expect(rows.rows[0].n).toBe(1);
  });
});

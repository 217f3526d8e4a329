import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { emptyRegistry } from '../../../test/support/database';
import { registryCounts, seedEvent, seedProduct } from '../../../test/support/products';
import { evaluateThresholds } from '../../cli/check/thresholds';
import { RETRACT_DESCENDANTS_LIMIT } from '../../core/domain/lifecycle/retract-product';
import { publishJobId } from '../../core/jobs/publish-queue';
import type { ProductStatus } from '../../core/repositories/product.types';

// Every operator verb in every state it accepts and refuses, against real PostgreSQL and Redis.
type State = 'waiting' | 'held' | 'publishing' | 'published' | 'failed' | 'discarded' | 'retracted';
const STATES: State[] = ['waiting', 'held', 'publishing', 'published', 'failed', 'discarded', 'retracted'];

describe('operator verbs', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await emptyRegistry(t.db.pool);
    await t.db.pool.query('TRUNCATE publishing_pauses, publishing_settings, publishing_control_events');
    await t.deps.queue.obliterate({ force: true });
  });

  async function seed(dataId: string, state: State): Promise<void> {
    const status: ProductStatus = state === 'waiting' || state === 'held' ? 'staging' : state;
    await seedProduct(t.db.pool, {
      data_id: dataId, status, publish_attempts: state === 'failed' ? 2 : 0, error_class: state === 'failed' ? 'checksum_mismatch' : undefined,
      publish_error: state === 'failed' ? 'SHA-256 abc does not match the expected def' : undefined,
      published_path: state === 'published' || state === 'retracted' ? `${dataId}.fits` : undefined,
    });
    if (state === 'held') await t.db.pool.query('UPDATE products SET held = true WHERE data_id = $1', [dataId]);
  }

  const row = async (dataId: string) =>
    (await t.db.pool.query('SELECT status, held, file_action_pending, expected_sha256, metadata, publish_attempts, error_class, updated_at FROM products WHERE data_id = $1', [dataId])).rows[0];
  const events = async (dataId: string) =>
    (await t.db.pool.query('SELECT event, from_status, to_status, actor, reason, detail FROM product_events WHERE data_id = $1 ORDER BY id', [dataId])).rows;

  /** A refusal: the status and exact body, and nothing written. */
  async function expectRefused(path: string, body: object, dataId: string, verb: string, state: State) {
    const before = { counts: await registryCounts(t.db.pool), row: await row(dataId) };
    const res = await request(t.app).post(path).set(authHeader()).send(body);
    expect({ state, status: res.status }).toEqual({ state, status: 409 });
    // A waiting product is reported by its status, staging.
    const shown = state === 'waiting' ? 'staging' : state;
    expect(res.body).toEqual({
      error: { code: 'invalid_state', message: expect.stringContaining(`is ${shown}: ${verb} accepts`), details: { status: shown, verb } },
    });
    expect(await registryCounts(t.db.pool)).toEqual(before.counts);
    expect(await row(dataId)).toEqual(before.row);
  }

  type After = { status: string; held: boolean; file_action_pending: boolean; event: string };
  const verbs: { verb: string; body: object; accepts: State[]; noop?: State[]; after: Partial<Record<State, After>> }[] = [
    { verb: 'discard', body: { reason: 'wrong checksum from the pipeline' }, accepts: ['failed', 'held'], after: {
      failed: { status: 'discarded', held: false, file_action_pending: false, event: 'discarded' },
      held: { status: 'discarded', held: false, file_action_pending: false, event: 'held_discarded' } } },
    { verb: 'amend', body: { expected_sha256: 'a'.repeat(64), metadata: { calibration: 'v2' }, reason: 'corrected' }, accepts: ['waiting', 'held', 'failed'], after: {
      waiting: { status: 'staging', held: false, file_action_pending: false, event: 'amended' },
      held: { status: 'staging', held: true, file_action_pending: false, event: 'amended' },
      failed: { status: 'failed', held: false, file_action_pending: false, event: 'failed_amended' } } },
    { verb: 'retract', body: { reason: 'bad calibration' }, accepts: ['published'], after: { published: { status: 'retracted', held: false, file_action_pending: true, event: 'retracted' } } },
    { verb: 'hold', body: { reason: 'waiting for QA' }, accepts: ['waiting'], noop: ['held'], after: { waiting: { status: 'staging', held: true, file_action_pending: false, event: 'held' } } },
    { verb: 'release', body: {}, accepts: ['held'], noop: ['waiting'], after: { held: { status: 'staging', held: false, file_action_pending: false, event: 'released' } } },
  ];

  for (const v of verbs) {
    describe(`POST /api/products/{data_id}/${v.verb}`, () => {
      for (const state of v.accepts) {
        it(`accepts a ${state} product and writes its event with actor and reason`, async () => {
          await seed('p1', state);
          const res = await request(t.app).post(`/api/products/p1/${v.verb}`).set(authHeader()).send(v.body);
          expect(res.status).toBe(200);
          const { event, ...after } = v.after[state]!;
          expect(await row('p1')).toMatchObject(after);
          const ev = (await events('p1')).at(-1);
          expect(ev).toMatchObject({ event, actor: 'bootstrap-admin', reason: (v.body as { reason?: string }).reason ?? null });
        });
      }
      for (const state of v.noop ?? []) {
        it(`changes nothing for a product already ${state}`, async () => {
          await seed('p1', state);
          const before = { counts: await registryCounts(t.db.pool), row: await row('p1') };
          const res = await request(t.app).post(`/api/products/p1/${v.verb}`).set(authHeader()).send(v.body);
          expect(res.status).toBe(200);
          expect(res.body.changed).toBe(false);
          expect(await registryCounts(t.db.pool)).toEqual(before.counts);
          expect(await row('p1')).toEqual(before.row);
        });
      }
      for (const state of STATES.filter((s) => !v.accepts.includes(s) && !(v.noop ?? []).includes(s))) {
        it(`refuses a ${state} product with 409 invalid_state, writing nothing`, async () => {
          await seed('p1', state);
          await expectRefused(`/api/products/p1/${v.verb}`, v.body, 'p1', v.verb, state);
        });
      }
      it('answers 404 product_not_found for an unknown data_id', async () => {
        const res = await request(t.app).post(`/api/products/ghost/${v.verb}`).set(authHeader()).send(v.body);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('product_not_found');
      });
    });
  }

  it('amend keeps the old and new values in its event', async () => {
    await seed('am', 'failed');
    await request(t.app).post('/api/products/am/amend').set(authHeader()).send({ expected_sha256: 'B'.repeat(64) }).expect(200);
    expect((await row('am')).expected_sha256).toBe('b'.repeat(64));
    expect((await events('am')).at(-1).detail).toEqual({ old: { expected_sha256: null }, new: { expected_sha256: 'b'.repeat(64) }, state: 'failed' });
  });

  it('discard and retract need a reason (400), and an admin token (403 for read)', async () => {
    await seed('r1', 'failed');
    const noReason = await request(t.app).post('/api/products/r1/discard').set(authHeader()).send({});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error).toMatchObject({ code: 'validation_error', message: expect.stringMatching(/^reason: /) });
    const token = await request(t.app).post('/api/tokens').set(authHeader()).send({ name: 'reader', scopes: ['read'] });
    const forbidden = await request(t.app).post('/api/products/r1/discard').set(authHeader(token.body.token)).send({ reason: 'x' });
    expect(forbidden.status).toBe(403);
    expect((await row('r1')).status).toBe('failed');
  });

  it('retract enqueues the worker\'s move; retry and publish refuse discarded and retracted products', async () => {
    await seed('pub', 'published');
    await request(t.app).post('/api/products/pub/retract').set(authHeader()).send({ reason: 'bad calibration' }).expect(200);
    expect(await t.deps.queue.getJob(publishJobId('pub'))).toBeDefined();
    for (const path of ['/api/monitoring/publish/retry/pub', '/api/products/pub/publish']) {
      const res = await request(t.app).post(path).set(authHeader());
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 409, code: 'invalid_state' });
    }
  });

  describe('retract lists what was derived from the product', () => {
    /** Records that `product` was derived from `inputs` (as a registration with derived_from does). */
    const derive = (product: string, ...inputs: string[]) => t.db.pool.query(
      `INSERT INTO product_inputs (product_id, input_id)
       SELECT p.id, i.id FROM products p, products i WHERE p.data_id = $1 AND i.data_id = ANY($2::text[])`, [product, inputs]);

    it('answers the descendants nearest first, whatever their state, and leaves them as they are', async () => {
      for (const [id, state] of [['cal', 'published'], ['img1', 'published'], ['img2', 'failed'], ['mosaic', 'published'], ['other', 'published']] as const) await seed(id, state);
      await derive('img1', 'cal');
      await derive('img2', 'cal');
      await derive('mosaic', 'img1', 'img2');
      const before = { img1: await row('img1'), img2: await row('img2'), mosaic: await row('mosaic'), other: await row('other') };
      const res = await request(t.app).post('/api/products/cal/retract').set(authHeader()).send({ reason: 'bad calibration table' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data_id: 'cal', status: 'retracted', published_path: 'cal.fits', move: 'pending',
        descendants: [
          { data_id: 'img1', data_type: 'image', status: 'published', depth: 1 },
          { data_id: 'img2', data_type: 'image', status: 'failed', depth: 1 },
          { data_id: 'mosaic', data_type: 'image', status: 'published', depth: 2 },
        ],
        descendants_truncated: false,
      });
      expect({ img1: await row('img1'), img2: await row('img2'), mosaic: await row('mosaic'), other: await row('other') }).toEqual(before);
    });

    it('answers an empty list for a product nothing was derived from', async () => {
      await seed('alone', 'published');
      const res = await request(t.app).post('/api/products/alone/retract').set(authHeader()).send({ reason: 'bad' }).expect(200);
      expect(res.body).toMatchObject({ descendants: [], descendants_truncated: false });
    });

    it('lists at most RETRACT_DESCENDANTS_LIMIT and says when there are more', async () => {
      await seed('root', 'published');
      await t.db.pool.query(
        `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, published_path)
         SELECT 'kid' || lpad(g::text, 3, '0'), 'image', 'kid' || g || '.fits', 'kid' || g || '.fits', 'file', 'published', 'kid' || g || '.fits'
           FROM generate_series(1, $1) g`, [RETRACT_DESCENDANTS_LIMIT + 1]);
      await t.db.pool.query(`INSERT INTO product_inputs (product_id, input_id) SELECT k.id, r.id FROM products k, products r WHERE k.data_id LIKE 'kid%' AND r.data_id = 'root'`);
      const res = await request(t.app).post('/api/products/root/retract').set(authHeader()).send({ reason: 'bad' }).expect(200);
      expect(res.body.descendants).toHaveLength(RETRACT_DESCENDANTS_LIMIT);
      expect(res.body.descendants[0]).toEqual({ data_id: 'kid001', data_type: 'image', status: 'published', depth: 1 });
      expect(res.body.descendants_truncated).toBe(true);
    });
  });

  describe('filtered bulk retry', () => {
    beforeEach(async () => {
      for (const [id, cls] of [['io1', 'io_error'], ['sum1', 'checksum_mismatch'], ['space1', 'no_space']] as const) {
        await seedProduct(t.db.pool, { data_id: id, status: 'failed', publish_attempts: 1, error_class: cls, publish_error: `${cls} happened` });
      }
    });

    it('skips the unfixable product and answers per product, newest first', async () => {
      const res = await request(t.app).post('/api/monitoring/publish/retry-all?exclude_error_class=checksum_mismatch&order=newest&limit=10').set(authHeader());
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: { data_id: string; outcome: string }) => [r.data_id, r.outcome])).toEqual([['space1', 'done'], ['io1', 'done']]);
      expect((await row('sum1')).status).toBe('failed');
      expect((await row('io1'))).toMatchObject({ status: 'staging', publish_attempts: 0, error_class: null });
      expect((await events('io1')).at(-1)).toMatchObject({ event: 'retry_requested', from_status: 'failed', to_status: 'staging', actor: 'bootstrap-admin' });
    });

    it('a dry run lists the selection and changes nothing', async () => {
      const before = await registryCounts(t.db.pool);
      const res = await request(t.app).post('/api/monitoring/publish/retry-all?error_class=io_error,no_space&dry_run=true').set(authHeader());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ dry_run: true, total_selected: 2, done: 0 });
      expect(res.body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['would_do', 'would_do']);
      expect(await registryCounts(t.db.pool)).toEqual(before);
    });

    it('discard-all takes the same filter', async () => {
      const res = await request(t.app).post('/api/monitoring/publish/discard-all?error_class=checksum_mismatch').set(authHeader()).send({ reason: 'pipeline sent a wrong digest' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ verb: 'discard', done: 1, results: [expect.objectContaining({ data_id: 'sum1', outcome: 'done' })] });
      expect((await row('sum1')).status).toBe('discarded');
      const status = await request(t.app).get('/api/monitoring/publish/status').set(authHeader());
      expect(status.body).toMatchObject({ failed_publishes: 2, total_discarded: 1 });
    });
  });

  describe('health figures after a week of failures', () => {
    it('fixed failures do not make check critical; the one left failed counts, the discarded one does not', async () => {
      // 30 products: each failed twice (retries), then an operator fixed the cause and they published.
      for (let i = 0; i < 30; i++) {
        const p = await seedProduct(t.db.pool, { data_id: `w${i}`, status: 'published', published_path: `w${i}.fits` });
        await seedEvent(t.db.pool, p, { from: 'publishing', to: 'staging', event: 'retry_scheduled', error_class: 'io_error', at: new Date(Date.now() - 20 * 3600_000) });
        await seedEvent(t.db.pool, p, { from: 'publishing', to: 'failed', event: 'failed', error_class: 'io_error', at: new Date(Date.now() - 19 * 3600_000) });
        await seedEvent(t.db.pool, p, { from: 'publishing', to: 'published', event: 'published', at: new Date(Date.now() - 2 * 3600_000) });
      }
      const stuck = await seedProduct(t.db.pool, { data_id: 'stuck', status: 'failed', publish_attempts: 1, error_class: 'checksum_mismatch' });
      await seedEvent(t.db.pool, stuck, { from: 'publishing', to: 'failed', event: 'failed', error_class: 'checksum_mismatch' });
      const gone = await seedProduct(t.db.pool, { data_id: 'gone', status: 'failed', publish_attempts: 1, error_class: 'checksum_mismatch' });
      await seedEvent(t.db.pool, gone, { from: 'publishing', to: 'failed', event: 'failed', error_class: 'checksum_mismatch' });
      await request(t.app).post('/api/products/gone/discard').set(authHeader()).send({ reason: 'never valid' }).expect(200);

      const res = await request(t.app).get('/api/monitoring/publish/status').set(authHeader());
      // 30 of 31 products (the discarded one left out) ended published: 96.77 %.
      expect(res.body).toMatchObject({
        success_rate_percent: 96.77, success_rate: { products: 31, succeeded: 30, enough_data: true },
        failed_publishes: 1, total_discarded: 1, max_attempts_exceeded: 0,
      });
      const snapshot = {
        success_rate_percent: res.body.success_rate_percent, failures_last_hour: 0, oldest_staging: null,
        max_attempts_exceeded: res.body.max_attempts_exceeded, total_published: 30, total_staging: 0, total_publishing: 0, failed_publishes: 1,
      };
      expect(evaluateThresholds(snapshot, { minSuccessRate: 95, maxFailuresLastHour: 5, maxStagingHours: 24, maxAttemptsExceeded: 0 })).toEqual([]);
    });
  });

  describe('pause, resume and the bandwidth limit', () => {
    it('pauses the whole service once, shows it in status, and resumes', async () => {
      const paused = await request(t.app).post('/api/publishing/pause').set(authHeader()).send({ reason: 'maintenance' });
      expect(paused.status).toBe(200);
      expect(paused.body).toEqual({ changed: true, pauses: [{ scope: '*', actor: 'bootstrap-admin', reason: 'maintenance', paused_at: expect.any(String) }] });
      const again = await request(t.app).post('/api/publishing/pause').set(authHeader()).send({ reason: 'again' });
      expect(again.body.changed).toBe(false);
      expect((await request(t.app).get('/api/status').set(authHeader())).body.paused).toHaveLength(1);
      expect((await request(t.app).get('/api/monitoring/publish/status').set(authHeader())).body.paused).toHaveLength(1);
      const resumed = await request(t.app).post('/api/publishing/resume').set(authHeader()).send({});
      expect(resumed.body).toEqual({ changed: true, pauses: [] });
      const log = (await t.db.pool.query('SELECT action, scope FROM publishing_control_events ORDER BY id')).rows;
      expect(log).toEqual([{ action: 'paused', scope: '*' }, { action: 'resumed', scope: '*' }]);
    });

    it('refuses to pause an unknown data type (422)', async () => {
      const res = await request(t.app).post('/api/publishing/pause').set(authHeader()).send({ data_type: 'nope', reason: 'x' });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('unknown_data_type');
    });

    it('sets the bandwidth limit at run time and back to the environment default', async () => {
      const set = await request(t.app).put('/api/publishing/bandwidth').set(authHeader()).send({ max_bytes_per_sec: 5_000_000, reason: 'backup window' });
      expect(set.body).toMatchObject({ max_bytes_per_sec: 5_000_000, source: 'setting', updated_by: 'bootstrap-admin' });
      const cleared = await request(t.app).put('/api/publishing/bandwidth').set(authHeader()).send({ max_bytes_per_sec: null });
      expect(cleared.body).toEqual({ max_bytes_per_sec: 0, source: 'environment', updated_by: null, updated_at: null });
    });
  });
});

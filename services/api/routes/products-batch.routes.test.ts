import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { writeFile } from '../../../test/support/dirs';
import { registryCounts, statusCountDrift } from '../../../test/support/products';
import { publishJobId } from '../../core/jobs/publish-queue';

const BATCH_MAX = 20;

describe('POST /api/products/batch', () => {
  let t: TestApi;
  let stage: string;

  beforeAll(async () => {
    t = await createTestApi({ env: { REGISTER_BATCH_MAX: String(BATCH_MAX), PUBLISH_GROUP_MAX_BYTES: '100', PUBLISH_GROUP_SIZE: '4' } });
    stage = t.roots.stageRoot;
  });
  afterAll(() => t.close());

  const batch = (body: unknown) => request(t.app).post('/api/products/batch').set(authHeader()).send(body as object);
  const single = (body: unknown) => request(t.app).post('/api/products').set(authHeader()).send(body as object);

  async function snapshot() {
    const counts = await t.deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    return { ...(await registryCounts(t.db.pool)), jobs: Object.values(counts).reduce((a, b) => a + b, 0) };
  }

  async function eventsOf(dataId: string): Promise<string[]> {
    const res = await t.db.pool.query<{ event: string }>('SELECT event FROM product_events WHERE data_id = $1 ORDER BY id', [dataId]);
    return res.rows.map((r) => r.event);
  }

  it('answers every product on its own, writes only the accepted ones, and gives each the code single registration gives', async () => {
    await writeFile(stage, 'b1/new.fits', 'new');
    await writeFile(stage, 'b1/again.fits', 'again');
    await writeFile(stage, 'b1/dir/a.bin', 'aa');
    await writeFile(stage, 'b1/dir/b.bin', 'bbb');
    await writeFile(stage, 'b1/held.fits', 'held');
    await writeFile(stage, 'b1/empty.fits', '');
    await writeFile(t.roots.base, 'outside.fits', 'secret');
    await fs.symlink(path.join(t.roots.base, 'outside.fits'), path.join(stage, 'b1/link.fits'));
    expect((await single({ data_id: 'b1-again', data_type: 'image', stage_path: 'b1/again.fits' })).status).toBe(201);
    const before = await snapshot();

    const items: unknown[] = [
      { data_id: 'b1-new', data_type: 'image', stage_path: 'b1/new.fits', metadata: { n: 1 } },
      { data_id: 'b1-again', data_type: 'image', stage_path: 'b1/again.fits' },
      { data_id: 'b1-again', data_type: 'mosaic', stage_path: 'b1/again.fits' },
      { data_id: 'b1-dir', data_type: 'ms', stage_path: 'b1/dir' },
      { data_id: 'b1-escape', data_type: 'image', stage_path: '../outside.fits' },
      { data_id: 'b1-link', data_type: 'image', stage_path: 'b1/link.fits' },
      { data_id: 'b1-missing', data_type: 'image', stage_path: 'b1/nothing.fits' },
      { data_id: 'b1-empty', data_type: 'image', stage_path: 'b1/empty.fits' },
      { data_id: 'b1-type', data_type: 'spectrum', stage_path: 'b1/new.fits' },
      { data_id: 'b1-bad', stage_path: 'b1/new.fits', colour: 'red' },
      { data_id: 'b1-same-dest', data_type: 'image', stage_path: 'b1/new.fits' },
      { data_id: 'b1-held', data_type: 'image', stage_path: 'b1/held.fits', auto_publish: false },
    ];
    const res = await batch({ products: items });
    expect(res.status).toBe(200);
    const brief = (res.body.results as Array<{ index: number; data_id: string | null; status: number; error?: { code: string } }>)
      .map((r) => [r.index, r.data_id, r.status, r.error?.code ?? null]);
    expect(brief).toEqual([
      [0, 'b1-new', 201, null],
      [1, 'b1-again', 200, null],
      [2, 'b1-again', 409, 'data_id_conflict'],
      [3, 'b1-dir', 201, null],
      [4, 'b1-escape', 400, 'path_outside_stage_root'],
      [5, 'b1-link', 400, 'path_outside_stage_root'],
      [6, 'b1-missing', 422, 'source_missing'],
      [7, 'b1-empty', 422, 'source_empty'],
      [8, 'b1-type', 422, 'unknown_data_type'],
      [9, 'b1-bad', 400, 'validation_error'],
      [10, 'b1-same-dest', 409, 'destination_conflict'],
      [11, 'b1-held', 201, null],
    ]);
    expect(res.body).toMatchObject({ created: 3, existing: 1, refused: 8 });
    expect(res.body.results[0].product).toMatchObject({ data_id: 'b1-new', status: 'staging', size_bytes: 3, metadata: { n: 1 }, held: false });
    expect(res.body.results[3].product).toMatchObject({ kind: 'directory', size_bytes: 5, file_count: 2 });
    expect(res.body.results[9].error.message).toMatch(/data_type/);
    // No server path in any answer.
    expect(JSON.stringify(res.body)).not.toContain(t.roots.base);

    // Three rows and three `registered` events, two jobs (the held product waits), nothing for the refused.
    expect(await snapshot()).toEqual({ products: before.products + 3, events: before.events + 3, jobs: before.jobs + 2 });
    expect(await eventsOf('b1-new')).toEqual(['registered']);
    expect(await eventsOf('b1-again')).toEqual(['registered']);
    for (const refused of ['b1-escape', 'b1-link', 'b1-missing', 'b1-empty', 'b1-type', 'b1-bad', 'b1-same-dest']) {
      expect(await eventsOf(refused)).toEqual([]);
    }
    expect(await t.deps.queue.getJob(publishJobId('b1-new'))).toBeDefined();
    expect(await t.deps.queue.getJob(publishJobId('b1-held'))).toBeUndefined();

    // Sent alone now, each refused product gets the very status and code it got in the batch.
    for (const r of res.body.results as Array<{ index: number; status: number; error?: { code: string } }>) {
      if (!r.error) continue;
      const alone = await single(items[r.index]);
      expect([r.index, alone.status, alone.body.error?.code]).toEqual([r.index, r.status, r.error.code]);
    }
  });

  it('answers a product listed twice: the second is the identical product (200), a different one a conflict', async () => {
    await writeFile(stage, 'b2/twice.fits', 'twice');
    const twice = { data_id: 'b2-twice', data_type: 'image', stage_path: 'b2/twice.fits', derived_from: ['b1-new'] };
    const res = await batch({ products: [twice, twice, { ...twice, metadata: { other: true } }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 200, 409]);
    expect(res.body.results[2].error).toMatchObject({ code: 'data_id_conflict', details: { fields: ['metadata'] } });
    expect(await eventsOf('b2-twice')).toEqual(['registered']);
  });

  it('answers each product as single registrations made one after another in the batch\'s order would', async () => {
    // The same products twice, under two prefixes: once in one batch, once one by one.
    const scenario = (p: string) => [
      { data_id: `${p}-z`, data_type: 'image', stage_path: `${p}/a.fits` },
      // Listed later at the same destination: it loses, though its data_id sorts first.
      { data_id: `${p}-y`, data_type: 'image', stage_path: `${p}/a.fits` },
      { data_id: `${p}-inner`, data_type: 'image', stage_path: `${p}/dir/x.bin` },
      { data_id: `${p}-dir`, data_type: 'ms', stage_path: `${p}/dir` },
      // One data_id five times: refused, registered, a conflict, a conflict though its own path is missing, the wrong type, identical.
      { data_id: `${p}-m`, data_type: 'image', stage_path: `${p}/missing.fits` },
      { data_id: `${p}-m`, data_type: 'image', stage_path: `${p}/b.fits` },
      { data_id: `${p}-m`, data_type: 'image', stage_path: `${p}/c.fits` },
      { data_id: `${p}-m`, data_type: 'image', stage_path: `${p}/nothing.fits` },
      { data_id: `${p}-m`, data_type: 'spectrum', stage_path: `${p}/b.fits` },
      { data_id: `${p}-m`, data_type: 'image', stage_path: `${p}/b.fits` },
      // Lineage and corrections meet the products listed before them, and only those.
      { data_id: `${p}-child`, data_type: 'image', stage_path: `${p}/c.fits`, derived_from: [`${p}-z`] },
      { data_id: `${p}-orphan`, data_type: 'image', stage_path: `${p}/e.fits`, derived_from: [`${p}-late`] },
      { data_id: `${p}-late`, data_type: 'image', stage_path: `${p}/e.fits` },
      { data_id: `${p}-fix`, data_type: 'image', stage_path: `${p}/f.fits`, supersedes: `${p}-z` },
      { data_id: `${p}-child`, data_type: 'image', stage_path: `${p}/c.fits`, derived_from: [`${p}-z`] },
      { data_id: `${p}-after`, data_type: 'image', stage_path: `${p}/c.fits` },
      { data_id: `${p}-z`, data_type: 'image', stage_path: `${p}/a.fits` },
    ];
    for (const p of ['b5', 'b6']) {
      for (const f of ['a.fits', 'b.fits', 'c.fits', 'e.fits', 'f.fits', 'dir/x.bin', 'dir/y.bin']) await writeFile(stage, `${p}/${f}`, `${p} ${f}`);
    }
    const before = await snapshot();
    const res = await batch({ products: scenario('b5') });
    expect(res.status).toBe(200);
    const inBatch = (res.body.results as Array<{ status: number; error?: { code: string } }>).map((r) => [r.status, r.error?.code ?? null]);
    const oneByOne: unknown[] = [];
    for (const item of scenario('b6')) {
      const r = await single(item);
      oneByOne.push([r.status, r.body.error?.code ?? null]);
    }
    expect(inBatch).toEqual([
      [201, null], [409, 'destination_conflict'], [201, null], [409, 'destination_conflict'],
      [422, 'source_missing'], [201, null], [409, 'data_id_conflict'], [409, 'data_id_conflict'], [422, 'unknown_data_type'], [200, null],
      [201, null], [422, 'lineage_unmet'], [201, null], [409, 'supersedes_in_progress'], [200, null], [409, 'destination_conflict'], [200, null],
    ]);
    expect(inBatch).toEqual(oneByOne);
    expect(res.body.results[1].error.details).toEqual({ data_id: 'b5-z', destination_path: 'b5/a.fits' });
    expect(res.body.results[15].error.details).toEqual({ data_id: 'b5-child', destination_path: 'b5/c.fits' });
    expect(res.body.results[9].product).toMatchObject({ data_id: 'b5-m', stage_path: 'b5/b.fits' });
    // The same rows, events and lineage either way: five products, each with one `registered` event.
    const registered = async (p: string) => (await t.db.pool.query<{ data_id: string; inputs: string[] }>(
      `SELECT replace(p.data_id, $1, '') AS data_id, ARRAY(SELECT replace(i.data_id, $1, '') FROM product_inputs x JOIN products i ON i.id = x.input_id
              WHERE x.product_id = p.id ORDER BY 1) AS inputs
         FROM products p WHERE p.data_id LIKE $1 || '-%' ORDER BY 1`, [p])).rows;
    expect(await registered('b5')).toEqual([
      { data_id: '-child', inputs: ['-z'] }, { data_id: '-inner', inputs: [] }, { data_id: '-late', inputs: [] },
      { data_id: '-m', inputs: [] }, { data_id: '-z', inputs: [] },
    ]);
    expect(await registered('b6')).toEqual(await registered('b5'));
    const after = await snapshot();
    expect([after.products - before.products, after.events - before.events]).toEqual([10, 10]);
    // The status counts the trigger keeps saw every row of the multi-row insert.
    expect(await statusCountDrift(t.db.pool)).toEqual([]);
  });

  it('registers again as identical (200) what it registered before, writing nothing', async () => {
    const before = await snapshot();
    const res = await batch({ products: [{ data_id: 'b1-new', data_type: 'image', stage_path: 'b1/new.fits', metadata: { n: 1 } }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 0, existing: 1, refused: 0, results: [{ index: 0, status: 200 }] });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses more than REGISTER_BATCH_MAX products with 413 batch_too_large and writes nothing', async () => {
    const items = Array.from({ length: BATCH_MAX + 1 }, (_, i) => ({ data_id: `over-${i}`, data_type: 'image', stage_path: 'b1/new.fits' }));
    const before = await snapshot();
    const res = await batch({ products: items });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'batch_too_large', message: expect.stringContaining(`at most ${BATCH_MAX}`), details: { max: BATCH_MAX } } });
    expect(await snapshot()).toEqual(before);
  });

  it('takes exactly REGISTER_BATCH_MAX products', async () => {
    for (let i = 0; i < BATCH_MAX; i++) await writeFile(stage, `b3/f${i}.bin`, `file ${i}`);
    const items = Array.from({ length: BATCH_MAX }, (_, i) => ({ data_id: `b3-${i}`, data_type: 'image', stage_path: `b3/f${i}.bin` }));
    const res = await batch({ products: items });
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(BATCH_MAX);
    expect(await statusCountDrift(t.db.pool)).toEqual([]);
  });

  it('queues one job for each PUBLISH_GROUP_SIZE small files it creates, the first of each, and one for every product no group takes', async () => {
    for (let i = 0; i < 9; i++) await writeFile(stage, `gq/s${i}.fits`, `small ${i}`);
    await writeFile(stage, 'gq/big.fits', 'x'.repeat(101));
    await writeFile(stage, 'gq/dir/a.bin', 'a');
    const items = [
      ...[0, 1, 2].map((i) => ({ data_id: `gq-s${i}`, data_type: 'image', stage_path: `gq/s${i}.fits` })),
      { data_id: 'gq-big', data_type: 'image', stage_path: 'gq/big.fits' },
      { data_id: 'gq-dir', data_type: 'ms', stage_path: 'gq/dir' },
      ...[3, 4, 5, 6, 7, 8].map((i) => ({ data_id: `gq-s${i}`, data_type: 'image', stage_path: `gq/s${i}.fits` })),
    ];
    const before = await snapshot();
    const res = await batch({ products: items });
    expect(res.body.created).toBe(11);
    expect(await snapshot()).toEqual({ products: before.products + 11, events: before.events + 11, jobs: before.jobs + 5 });
    const queued = [];
    for (const it of items) if (await t.deps.queue.getJob(publishJobId(it.data_id))) queued.push(it.data_id);
    expect(queued).toEqual(['gq-s0', 'gq-big', 'gq-dir', 'gq-s4', 'gq-s8']);
  });

  it('refuses a malformed envelope with 400 validation_error and writes nothing', async () => {
    const before = await snapshot();
    for (const body of [{ products: [] }, {}, { products: {} }, [], { products: [{}], extra: 1 }]) {
      const res = await batch(body);
      expect([JSON.stringify(body), res.status, res.body.error?.code]).toEqual([JSON.stringify(body), 400, 'validation_error']);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers items that are not objects with their own 400 and registers the rest', async () => {
    await writeFile(stage, 'b4/ok.fits', 'ok');
    const res = await batch({ products: [null, 'text', 7, { data_id: 'b4-ok', data_type: 'image', stage_path: 'b4/ok.fits' }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { data_id: string | null; status: number }) => [r.data_id, r.status])).toEqual([
      [null, 400], [null, 400], [null, 400], ['b4-ok', 201],
    ]);
  });
});

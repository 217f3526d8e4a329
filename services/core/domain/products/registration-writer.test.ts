import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../../test/support/api';
import { writeFile } from '../../../../test/support/dirs';
import { statusCountDrift } from '../../../../test/support/products';
import { ConflictError } from '../../errors';
import { publishJobId } from '../../jobs/publish-queue';
import { prepareRegistration, type ReadyRegistration, type RegisterProductInput } from './register-product';
import { RegistrationWriter } from './registration-writer';

describe('RegistrationWriter', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await createTestApi();
  });
  afterAll(() => t.close());

  async function prepare(input: RegisterProductInput): Promise<ReadyRegistration> {
    const prepared = await prepareRegistration(t.deps, input, undefined);
    if (prepared.outcome !== 'ready') throw new Error(`${input.data_id} was answered before its write`);
    return prepared;
  }

  /** The transaction that wrote each product (rows written by one transaction share its xmin). */
  async function writtenBy(dataIds: string[]): Promise<Map<string, string>> {
    const res = await t.db.pool.query<{ data_id: string; xmin: string }>('SELECT data_id, xmin::text FROM products WHERE data_id = ANY($1)', [dataIds]);
    return new Map(res.rows.map((r) => [r.data_id, r.xmin]));
  }

  it('writes the requests that arrived while a transaction ran in the next one, and answers each as if alone', async () => {
    const names = ['first', 'a', 'b', 'c', 'nest'];
    for (const n of names) await writeFile(t.roots.stageRoot, `w1/${n}/data.bin`, n);
    const inputs: RegisterProductInput[] = [
      ...names.map((n) => ({ data_id: `w1-${n}`, data_type: 'ms', stage_path: `w1/${n}` })),
      // Inside w1-nest's directory: refused for the product written before it in the same transaction.
      { data_id: 'w1-inside', data_type: 'image', stage_path: 'w1/nest/data.bin' },
      // The same data_id twice: the second is the identical product, as if registered right after.
      { data_id: 'w1-a', data_type: 'ms', stage_path: 'w1/a' },
    ];
    const prepared = await Promise.all(inputs.map(prepare));
    const writer = new RegistrationWriter(t.deps);
    // All in one tick: the first starts a transaction alone, the rest wait for it and go together.
    const answers = await Promise.allSettled(prepared.map((p) => writer.write(p)));

    const created = answers.map((a) => (a.status === 'fulfilled' ? a.value.created : undefined));
    expect(created).toEqual([true, true, true, true, true, undefined, false]);
    const refused = answers[5] as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    expect(refused.reason).toMatchObject({ code: 'destination_conflict' });
    const again = answers[6] as PromiseFulfilledResult<{ product: { id: number } }>;
    expect(again.value.product.id).toBe((answers[1] as PromiseFulfilledResult<{ product: { id: number } }>).value.product.id);

    const xmin = await writtenBy(names.map((n) => `w1-${n}`));
    expect(xmin.size).toBe(5);
    expect(new Set(names.slice(1).map((n) => xmin.get(`w1-${n}`))).size).toBe(1);
    expect(xmin.get('w1-a')).not.toBe(xmin.get('w1-first'));
    expect(await writtenBy(['w1-inside'])).toEqual(new Map());
    for (const n of names) expect(await t.deps.queue.getJob(publishJobId(`w1-${n}`))).toBeDefined();
  });

  it('writes each request again alone when their shared transaction fails, so none fails for another', async () => {
    for (const n of ['first', 'good', 'bad', 'later']) await writeFile(t.roots.stageRoot, `w2/${n}.fits`, n);
    const [first, good, bad, later] = await Promise.all(['first', 'good', 'bad', 'later'].map((n) => prepare({ data_id: `w2-${n}`, data_type: 'image', stage_path: `w2/${n}.fits` })));
    // A value PostgreSQL refuses (the api's schema never lets one through): this write fails in any transaction.
    const refusedByDatabase: ReadyRegistration = { ...bad!, source: { ...bad!.source, sizeBytes: 1.5 } };
    const writer = new RegistrationWriter(t.deps);
    const answers = await Promise.allSettled([first!, good!, refusedByDatabase].map((p) => writer.write(p)));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((answers[2] as PromiseRejectedResult).reason).toMatchObject({ code: '22P02' });
    // The writer goes on after a failure.
    await expect(writer.write(later!)).resolves.toMatchObject({ created: true });
    const xmin = await writtenBy(['w2-first', 'w2-good', 'w2-bad', 'w2-later']);
    expect([...xmin.keys()].sort()).toEqual(['w2-first', 'w2-good', 'w2-later']);
  });

  it('answers each of many concurrent POST /api/products on its own, hostile ones among them, and writes only the accepted', async () => {
    const good = Array.from({ length: 12 }, (_, i) => `w3/ok-${i}.fits`);
    for (const g of good) await writeFile(t.roots.stageRoot, g, g);
    await writeFile(t.roots.stageRoot, 'w3/dir/x.bin', 'x');
    await writeFile(t.roots.base, 'w3-outside.fits', 'secret');
    await fs.symlink(path.join(t.roots.base, 'w3-outside.fits'), path.join(t.roots.stageRoot, 'w3/link.fits'));
    const bodies: Array<Record<string, unknown>> = [
      ...good.map((g, i) => ({ data_id: `w3-ok-${i}`, data_type: 'image', stage_path: g })),
      { data_id: 'w3-ok-0', data_type: 'image', stage_path: good[0] }, // the identical product again
      { data_id: 'w3-ok-1', data_type: 'mosaic', stage_path: good[1] }, // the same data_id, different
      { data_id: 'w3-link', data_type: 'image', stage_path: 'w3/link.fits' },
      { data_id: 'w3-escape', data_type: 'image', stage_path: '../w3-outside.fits' },
      { data_id: 'w3-bad', stage_path: good[2], colour: 'red' },
      { data_id: 'w3-dir', data_type: 'ms', stage_path: 'w3/dir' },
      { data_id: 'w3-inside', data_type: 'image', stage_path: 'w3/dir/x.bin' }, // nests with w3-dir: one of the two wins
    ];
    const answers = await Promise.all(bodies.map((b) => request(t.app).post('/api/products').set(authHeader()).send(b)));
    const brief = answers.map((r, i) => [bodies[i]!.data_id, r.status, r.body.error?.code ?? null]);
    /** The answers of two requests that race for one data_id or nested destinations: either may come first. */
    const pair = (a: number, b: number) => [brief[a]!.slice(1), brief[b]!.slice(1)].sort();

    expect(brief.slice(2, 12)).toEqual(good.slice(2).map((_, i) => [`w3-ok-${i + 2}`, 201, null]));
    expect(pair(0, 12)).toEqual([[200, null], [201, null]]);
    expect(pair(1, 13)).toEqual([[201, null], [409, 'data_id_conflict']]);
    expect(brief.slice(14, 17)).toEqual([
      ['w3-link', 400, 'path_outside_stage_root'],
      ['w3-escape', 400, 'path_outside_stage_root'],
      ['w3-bad', 400, 'validation_error'],
    ]);
    expect(pair(17, 18)).toEqual([[201, null], [409, 'destination_conflict']]);
    for (const r of answers) expect(JSON.stringify(r.body)).not.toContain(t.roots.base);

    const rows = await t.db.pool.query<{ data_id: string; data_type: string }>("SELECT data_id, data_type FROM products WHERE data_id LIKE 'w3-%'");
    const written = new Map(rows.rows.map((r) => [r.data_id, r.data_type]));
    const winner = brief[17]![1] === 201 ? 'w3-dir' : 'w3-inside';
    expect([...written.keys()].sort()).toEqual([...good.map((_, i) => `w3-ok-${i}`), winner].sort());
    // The row of the raced data_id is the one whose request got 201.
    expect(written.get('w3-ok-1')).toBe(brief[1]![1] === 201 ? 'image' : 'mosaic');
    expect(await statusCountDrift(t.db.pool)).toEqual([]);
  });
});


import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { seedProduct } from '../../../../test/support/products';
import type { Queryable } from '../../db/pool';
import { DataIdLookup } from './data-id-lookup';

describe('DataIdLookup (the look-ups of concurrent single registrations, made together)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /**
   * The test database, recording the data_ids of each query. While `hold` is set, a query runs at
   * once but its answer waits for hold's promise: the query is out, and look-ups asked meanwhile
   * must wait for the next one.
   */
  function recording(opts: { hold?: Promise<void>; fail?: (n: number) => boolean } = {}) {
    const queries: string[][] = [];
    const db2: Queryable = {
      query: (async (config: { values?: unknown[] }) => {
        const n = queries.push([...(config.values![0] as string[])]);
        if (opts.fail?.(n)) throw new Error(`query ${n} refused`);
        const res = await db.pool.query(config as never);
        if (n === 1 && opts.hold) await opts.hold;
        return res;
      }) as Queryable['query'],
    };
    return { db: db2, queries };
  }

  it('sends a lone look-up at once, and those asked while it runs together in the next query', async () => {
    for (const id of ['l1-a', 'l1-b', 'l1-c']) await seedProduct(db.pool, { data_id: id });
    let release!: () => void;
    const r = recording({ hold: new Promise((res) => { release = res; }) });
    const lookup = new DataIdLookup(r.db, 100);
    const first = lookup.find('l1-a');
    const rest = ['l1-b', 'l1-missing', 'l1-c', 'l1-b'].map((id) => lookup.find(id));
    await new Promise((res) => setImmediate(res));
    expect(r.queries).toEqual([['l1-a']]);
    release();
    const [a, b, missing, c, bAgain] = await Promise.all([first, ...rest]);
    // One query for the four asked while the first ran, each data_id once.
    expect(r.queries).toEqual([['l1-a'], ['l1-b', 'l1-missing', 'l1-c']]);
    expect([a?.data_id, b?.data_id, missing, c?.data_id, bAgain?.data_id]).toEqual(['l1-a', 'l1-b', undefined, 'l1-c', 'l1-b']);
    expect(a).toMatchObject({ data_id: 'l1-a', status: 'staging' });
  });

  it('never answers a look-up from a query that began before it was asked', async () => {
    let release!: () => void;
    const r = recording({ hold: new Promise((res) => { release = res; }) });
    const lookup = new DataIdLookup(r.db, 100);
    // Asked before the product exists: its query runs now and finds nothing.
    const before = lookup.find('l2-late');
    await new Promise((res) => setImmediate(res));
    await seedProduct(db.pool, { data_id: 'l2-late' });
    // Asked after it was registered, while the first query's answer is still out: a query of its own sees it.
    const after = lookup.find('l2-late');
    release();
    expect(await before).toBeUndefined();
    expect(await after).toMatchObject({ data_id: 'l2-late' });
    expect(r.queries).toEqual([['l2-late'], ['l2-late']]);
  });

  it('fails every look-up of a failed query with its error, and goes on with the next', async () => {
    await seedProduct(db.pool, { data_id: 'l3-a' });
    let release!: () => void;
    const r = recording({ hold: new Promise((res) => { release = res; }), fail: (n) => n === 2 });
    const lookup = new DataIdLookup(r.db, 100);
    const first = lookup.find('l3-a');
    const failed = [lookup.find('l3-b'), lookup.find('l3-c')];
    release();
    expect(await first).toMatchObject({ data_id: 'l3-a' });
    for (const f of failed) await expect(f).rejects.toThrow('query 2 refused');
    expect(await lookup.find('l3-a')).toMatchObject({ data_id: 'l3-a' });
    expect(r.queries).toEqual([['l3-a'], ['l3-b', 'l3-c'], ['l3-a']]);
  });

  it('puts at most `max` data_ids in one query', async () => {
    let release!: () => void;
    const r = recording({ hold: new Promise((res) => { release = res; }) });
    const lookup = new DataIdLookup(r.db, 2);
    const all = ['l4-0', 'l4-1', 'l4-2', 'l4-3', 'l4-4', 'l4-5'].map((id) => lookup.find(id));
    release();
    expect(await Promise.all(all)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(r.queries).toEqual([['l4-0'], ['l4-1', 'l4-2'], ['l4-3', 'l4-4'], ['l4-5']]);
  });
});

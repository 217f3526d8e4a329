import { createTestDatabase, emptyRegistry, planWithoutSeqScans, type TestDatabase } from '../../../test/support/database';
import { keptOutcomes, outcomeHoursDrift, referenceOutcomes, writeOutcomeHistory } from '../../../test/support/outcome-history';
import { seedEvent, seedProduct } from '../../../test/support/products';
import { latestOutcomes } from './lifecycle-stats.repository';

const HOUR = 3_600_000;

describe('latestOutcomes (latest outcome per product, hours kept by trigger)', () => {
  let db: TestDatabase;
  // A fixed "now" on no hour boundary, so windows start mid-hour as well as on one.
  const now = new Date('2026-11-20T12:34:56.789Z');
  const dayAgo = now.getTime() - 24 * HOUR;
  const onHour = Math.floor(dayAgo / HOUR) * HOUR;
  const windows = [
    new Date(dayAgo), new Date(dayAgo - 1), new Date(dayAgo + 1),
    new Date(onHour), new Date(onHour - 1), new Date(onHour + 1),
    new Date(onHour + HOUR), new Date(onHour + HOUR - 1),
    new Date(now.getTime() - 12 * HOUR), new Date(now.getTime() - 30 * 60_000),
    new Date(now.getTime() - 31 * HOUR), new Date(now.getTime() + HOUR),
  ];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(() => emptyRegistry(db.pool));

  it.each([1, 2, 3])('equals the DISTINCT ON definition over a random history written concurrently (seed %i)', async (seed) => {
    await writeOutcomeHistory(db.pool, { seed, now, products: 300, hours: 30, writers: 6 });
    for (const since of windows) {
      expect({ since: since.toISOString(), ...(await keptOutcomes(db.pool, since)) })
        .toEqual({ since: since.toISOString(), ...(await referenceOutcomes(db.pool, since)) });
    }
    expect(await outcomeHoursDrift(db.pool)).toEqual([]);
    // The history really spans the cases: many products in the window, failures and successes,
    // discarded products with outcomes in it, and products whose events came out of time order.
    const inWindow = await referenceOutcomes(db.pool, windows[0]!);
    expect(inWindow.products).toBeGreaterThan(150);
    expect(inWindow.succeeded).toBeGreaterThan(50);
    expect(inWindow.products - inWindow.succeeded).toBeGreaterThan(50);
    const shape = (await db.pool.query<{ discarded: number; reordered: number; fronts: number }>(
      `SELECT (SELECT count(DISTINCT e.product_id) FROM product_events e JOIN products p ON p.id = e.product_id
                WHERE p.status = 'discarded' AND e.ends_attempt AND e.created_at >= $1)::int AS discarded,
              (SELECT count(*) FROM product_events a JOIN product_events b ON a.product_id = b.product_id
                WHERE a.ends_attempt AND b.ends_attempt AND a.id < b.id AND a.created_at > b.created_at)::int AS reordered,
              (SELECT count(*) FROM (SELECT product_id FROM latest_outcomes GROUP BY 1 HAVING count(*) > 1) f)::int AS fronts`,
      [windows[0]],
    )).rows[0]!;
    expect(shape.discarded).toBeGreaterThan(5);
    expect(shape.reordered).toBeGreaterThan(20);
    expect(shape.fronts).toBeGreaterThan(5);
  });

  it('counts a product by its latest outcome only: a failure fixed by a retry is one success', async () => {
    const p = await seedProduct(db.pool, { data_id: 'fixed', status: 'published' });
    await seedEvent(db.pool, p, { from: 'publishing', to: 'staging', event: 'retry_scheduled', at: new Date(now.getTime() - 3 * HOUR) });
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 0 });
    await seedEvent(db.pool, p, { from: 'publishing', to: 'published', event: 'published', at: new Date(now.getTime() - HOUR) });
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 1 });
    // Its old hour gave the product up: one row per product, in the new hour.
    expect((await db.pool.query('SELECT products, successes FROM latest_outcome_hours')).rows).toEqual([{ products: 1, successes: 1 }]);
  });

  it('stays exact when an event waits for the product behind one written after it', async () => {
    const p = await seedProduct(db.pool, { data_id: 'raced', status: 'failed' });
    const [a, b] = [await db.pool.connect(), await db.pool.connect()];
    try {
      // a holds the product as a transition would; b's event gets its id first, then waits for it.
      await a.query('BEGIN');
      await a.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [p.id]);
      const bPid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const waiting = seedEvent(b, p, { from: 'publishing', to: 'published', event: 'published', at: new Date(now.getTime() - 2 * HOUR) });
      for (let i = 0; i < 200; i++) {
        const w = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [bPid]);
        if (w.rowCount === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await seedEvent(a, p, { from: 'publishing', to: 'failed', event: 'failed', at: new Date(now.getTime() - HOUR) });
      await a.query('COMMIT');
      await waiting;
    } finally {
      a.release();
      b.release();
    }
    const ids = (await db.pool.query<{ id: number; to_status: string }>('SELECT id, to_status FROM product_events ORDER BY id')).rows;
    expect(ids.map((e) => e.to_status)).toEqual(['published', 'failed']);
    // The failure has the higher id and the later time: it decides every window that holds either.
    for (const since of [windows[0]!, new Date(now.getTime() - 90 * 60_000), new Date(now.getTime() - 30 * 60_000)]) {
      expect(await keptOutcomes(db.pool, since)).toEqual(await referenceOutcomes(db.pool, since));
    }
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 0 });
  });

  it('leaves discarded products out, and counts them again should they leave that state', async () => {
    const p = await seedProduct(db.pool, { data_id: 'gone', status: 'failed' });
    await seedEvent(db.pool, p, { from: 'publishing', to: 'failed', event: 'failed', at: new Date(now.getTime() - HOUR) });
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 0 });
    await db.pool.query(`UPDATE products SET status = 'discarded' WHERE id = $1`, [p.id]);
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 0, succeeded: 0 });
    expect((await db.pool.query('SELECT 1 FROM latest_outcome_hours')).rowCount).toBe(0);
    await db.pool.query(`UPDATE products SET status = 'failed' WHERE id = $1`, [p.id]);
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 0 });
  });

  it('forgets a deleted product', async () => {
    const [kept, gone] = [await seedProduct(db.pool, { data_id: 'kept' }), await seedProduct(db.pool, { data_id: 'gone' })];
    for (const p of [kept, gone]) await seedEvent(db.pool, p, { from: 'publishing', to: 'published', at: new Date(now.getTime() - HOUR) });
    await db.pool.query('DELETE FROM products WHERE id = $1', [gone.id]);
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 1 });
    expect(await referenceOutcomes(db.pool, windows[0]!)).toEqual({ products: 1, succeeded: 1 });
    expect(await outcomeHoursDrift(db.pool)).toEqual([]);
  });

  it('reads whole hours from latest_outcome_hours and only the partial hour by latest_outcomes_at_idx, never the event log', async () => {
    const p = await seedProduct(db.pool, { data_id: 'p', status: 'published' });
    await seedEvent(db.pool, p, { from: 'publishing', to: 'published', at: new Date(now.getTime() - 2 * HOUR) });
    // Doubling the hour row, and only it, doubles the answer: the whole hour was read from there.
    await db.pool.query('UPDATE latest_outcome_hours SET products = products * 2, successes = successes * 2');
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 2, succeeded: 2 });
    const plan = await planWithoutSeqScans(db.pool, latestOutcomes(`'${windows[0]!.toISOString()}'`));
    expect(plan).toMatch(/Index Cond: \(\(at >= .*\) AND \(at < /);
    expect(plan).toMatch(/latest_outcomes_at_idx/);
    expect(plan).toMatch(/latest_outcome_hours_pkey/);
    expect(plan).not.toMatch(/product_events/);
  });

  it('forgets every outcome when the registry is emptied', async () => {
    const p = await seedProduct(db.pool, { data_id: 'p', status: 'failed' });
    await seedEvent(db.pool, p, { from: 'publishing', to: 'failed', at: new Date(now.getTime() - HOUR) });
    await emptyRegistry(db.pool);
    expect((await db.pool.query('SELECT 1 FROM latest_outcome_hours UNION ALL SELECT 1 FROM latest_outcomes')).rowCount).toBe(0);
    expect(await keptOutcomes(db.pool, windows[0]!)).toEqual({ products: 0, succeeded: 0 });
  });
});

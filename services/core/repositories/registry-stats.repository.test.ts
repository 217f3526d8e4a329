import { createTestDatabase, emptyRegistry, planWithoutSeqScans, type TestDatabase } from '../../../test/support/database';
import { seedEvent, seedProduct } from '../../../test/support/products';
import type { ProductRow, ProductStatus } from './product.types';
import { attemptOutcomesSince, countFailedAtLeast } from './registry-stats.repository';

const HOUR = 3_600_000;

describe('attemptOutcomesSince (hourly counts kept by trigger)', () => {
  let db: TestDatabase;
  let products: ProductRow[];
  // A fixed "now" on no hour boundary, so windows start mid-hour as well as on one.
  const now = new Date('2026-11-20T12:34:56.789Z');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(async () => {
    await emptyRegistry(db.pool);
    products = [];
    for (let i = 0; i < 20; i++) products.push(await seedProduct(db.pool, { data_id: `p${i}`, status: 'published' }));
  });

  /** The plain count over the event log that the hourly table must agree with. */
  async function fromEventLog(since: Date): Promise<{ attempts: number; successes: number }> {
    const res = await db.pool.query<{ attempts: number; successes: number }>(
      `SELECT count(*)::bigint AS attempts, count(*) FILTER (WHERE to_status = 'published')::bigint AS successes
         FROM product_events
        WHERE created_at >= $1 AND from_status = 'publishing' AND to_status <> 'publishing' AND event <> 'lease_released'`,
      [since],
    );
    return res.rows[0]!;
  }

  it('agrees with the event log for windows starting on, just before and just after hour boundaries', async () => {
    const kinds: { from: ProductStatus | null; to: ProductStatus; event?: string }[] = [
      { from: 'publishing', to: 'published' },
      { from: 'publishing', to: 'staging' },
      { from: 'publishing', to: 'failed' },
      { from: 'publishing', to: 'staging', event: 'lease_released' },
      { from: 'staging', to: 'publishing' },
      { from: null, to: 'staging' },
    ];
    // Events every 7 minutes or so over 27 hours, plus some exactly on hour boundaries.
    const times: Date[] = [];
    for (let t = now.getTime() - 27 * HOUR; t <= now.getTime(); t += 7 * 60_000 + 13_001) times.push(new Date(t));
    const onHour = Math.floor((now.getTime() - 24 * HOUR) / HOUR) * HOUR;
    for (const h of [onHour, onHour + HOUR, onHour + 2 * HOUR]) times.push(new Date(h), new Date(h - 1), new Date(h + 1));
    for (const [i, at] of times.entries()) await seedEvent(db.pool, products[i % products.length]!, { ...kinds[i % kinds.length]!, at });

    const windows = [
      new Date(now.getTime() - 24 * HOUR),
      new Date(onHour), new Date(onHour - 1), new Date(onHour + 1),
      new Date(onHour + HOUR), new Date(onHour + HOUR - 1),
      new Date(now.getTime() - 30 * 60_000),
      new Date(now.getTime() - 30 * HOUR),
    ];
    for (const since of windows) {
      const expected = await fromEventLog(since);
      expect({ since: since.toISOString(), ...(await attemptOutcomesSince(db.pool, since)) }).toEqual({ since: since.toISOString(), ...expected });
    }
    // The fixture really spans the cases: attempts both inside and outside the 24 h window.
    const inWindow = await fromEventLog(windows[0]!);
    expect(inWindow.attempts).toBeGreaterThan(100);
    expect(inWindow.successes).toBeGreaterThan(30);
    expect((await fromEventLog(windows[7]!)).attempts).toBeGreaterThan(inWindow.attempts);
  });

  it('counts from the hourly table, not from whole hours of the event log', async () => {
    const since = new Date(now.getTime() - 24 * HOUR);
    await seedEvent(db.pool, products[0]!, { from: 'publishing', to: 'published', at: new Date(now.getTime() - 2 * HOUR) });
    expect(await attemptOutcomesSince(db.pool, since)).toEqual({ attempts: 1, successes: 1 });
    // Doubling the hourly row, and only it, doubles the answer: the whole hour was read from there.
    await db.pool.query('UPDATE publish_attempt_hours SET attempts = attempts * 2, successes = successes * 2');
    expect(await attemptOutcomesSince(db.pool, since)).toEqual({ attempts: 2, successes: 2 });
  });

  it('forgets the hours when the event log is emptied, also by a cascade from products', async () => {
    await seedEvent(db.pool, products[0]!, { from: 'publishing', to: 'failed', at: new Date(now.getTime() - HOUR) });
    expect((await db.pool.query('SELECT 1 FROM publish_attempt_hours')).rowCount).toBe(1);
    await emptyRegistry(db.pool);
    expect((await db.pool.query('SELECT 1 FROM publish_attempt_hours')).rowCount).toBe(0);
    expect(await attemptOutcomesSince(db.pool, new Date(now.getTime() - 24 * HOUR))).toEqual({ attempts: 0, successes: 0 });
  });
});

describe('countFailedAtLeast', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('counts failed products at or over the limit from the index alone', async () => {
    for (const [i, attempts] of [1, 3, 5, 7].entries()) await seedProduct(db.pool, { data_id: `f${i}`, status: 'failed', publish_attempts: attempts });
    await seedProduct(db.pool, { data_id: 'ok', status: 'published', publish_attempts: 9 });
    expect(await countFailedAtLeast(db.pool, 5)).toBe(2);
    expect(await countFailedAtLeast(db.pool, 1)).toBe(4);
    const plan = await planWithoutSeqScans(db.pool, `SELECT count(*) FROM products WHERE status = 'failed' AND publish_attempts >= 5`);
    expect(plan).toMatch(/Index Only Scan using products_failed_attempts_idx/);
  });
});

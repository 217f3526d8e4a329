import { createTestDatabase, planWithoutSeqScans, type TestDatabase } from '../../../test/support/database';
import { seedProduct } from '../../../test/support/products';
import { COUNT_HELD } from './lifecycle-stats.repository';
import { countFailedAtLeast } from './registry-stats.repository';

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

describe('the held count of publish status', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('counts held staging products from an index of just those', async () => {
    for (let i = 0; i < 6; i++) await seedProduct(db.pool, { data_id: `s${i}`, status: 'staging' });
    await db.pool.query(`UPDATE products SET held = true WHERE data_id IN ('s1', 's4')`);
    await seedProduct(db.pool, { data_id: 'p', status: 'published' });
    expect((await db.pool.query<{ n: number }>(COUNT_HELD)).rows[0]!.n).toBe(2);
    expect(await planWithoutSeqScans(db.pool, COUNT_HELD)).toMatch(/Index Only Scan using products_held_idx/);
  });
});

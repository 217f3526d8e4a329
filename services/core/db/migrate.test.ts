import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { migrate, migrationNames, pendingMigrations } from './migrate';

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('reports every migration pending on an empty database, and none once applied', async () => {
    expect(await pendingMigrations(db.pool)).toEqual(migrationNames());
    await migrate({ databaseUrl: db.url });
    expect(await pendingMigrations(db.pool)).toEqual([]);
  });

  it('keeps per-status counts in step with the products table', async () => {
    await db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind) VALUES ('a', 'image', 'a.fits', 'a.fits', 'file'), ('b', 'image', 'b.fits', 'b.fits', 'file')`,
    );
    await db.pool.query(`UPDATE products SET status = 'published' WHERE data_id = 'a'`);
    const res = await db.pool.query('SELECT status, count FROM product_status_counts WHERE count > 0 ORDER BY status');
    expect(res.rows).toEqual([
      { status: 'staging', count: 1 },
      { status: 'published', count: 1 },
    ]);
  });
});

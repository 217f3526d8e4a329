import { runner } from 'node-pg-migrate';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { waitFor } from '../../../test/support/wait-for';
import { migrate, MIGRATION_LOCK_KEY, MIGRATIONS_DIR, MIGRATIONS_TABLE, migrationNames, pendingMigrations } from './migrate';

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

  describe('while another session holds the migration lock', () => {
    let holder: Client;
    beforeEach(async () => {
      holder = new Client({ connectionString: db.url });
      await holder.connect();
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    });
    afterEach(() => holder.end());

    it('holds the very lock node-pg-migrate takes: its runner refuses to start', async () => {
      await expect(runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'up', log: () => undefined }))
        .rejects.toThrow('Another migration is already running');
    });

    it('fails at once by default, as node-pg-migrate does', async () => {
      await expect(migrate({ databaseUrl: db.url })).rejects.toThrow('Another migration is already running');
    });

    it('with lockWaitMs, waits for the release and then runs', async () => {
      const taken: number[] = [];
      const run = migrate({ databaseUrl: db.url, lockWaitMs: 60_000, onLockTaken: (waited) => taken.push(waited) });
      // Release once the waiter is blocked on the lock: its session shows up waiting in pg_locks.
      await waitFor(async () => (await holder.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      )).rows[0].n > 0, 30_000, 'the migration to wait for the lock');
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      await expect(run).resolves.toEqual([]);
      expect(taken).toHaveLength(1);
    });

    it('gives up with a clear reason when the lock stays taken past lockWaitMs', async () => {
      await expect(migrate({ databaseUrl: db.url, lockWaitMs: 300 })).rejects.toThrow('another process held the migration lock for more than 0 s');
    });
  });
});

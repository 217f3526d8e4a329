import { migrate, migrationNames, pendingMigrations } from '../../services/core/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

// Every migration must apply, revert and re-apply cleanly; iterating over migrationNames() means a
// new migration file is covered without touching this test.
const names = migrationNames();

async function appliedNames(db: TestDatabase): Promise<string[]> {
  const res = await db.pool.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY run_on, id');
  return res.rows.map((r) => r.name);
}

/** Names of the tables, types and functions in the public schema, for comparing whole schemas. */
async function schemaObjects(db: TestDatabase): Promise<string[]> {
  const res = await db.pool.query<{ o: string }>(`
    SELECT 'table:' || table_name || '.' || column_name || ':' || data_type AS o
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'pgmigrations'
    UNION ALL SELECT 'type:' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typtype = 'e'
    UNION ALL SELECT 'function:' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public'
    UNION ALL SELECT 'index:' || indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'pgmigrations'
    UNION ALL SELECT 'trigger:' || tgname FROM pg_trigger WHERE NOT tgisinternal
    ORDER BY 1`);
  return res.rows.map((r) => r.o);
}

describe('migrations against real PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('applies every migration up to head in order', async () => {
    expect(names.length).toBeGreaterThan(0);
    const ran = await migrate({ databaseUrl: db.url });
    expect(ran).toEqual(names);
    expect(await appliedNames(db)).toEqual(names);
    expect(await pendingMigrations(db.pool)).toEqual([]);
  });

  it.each(names.map((n, i) => [n, i] as const))('reverts %s alone and applies it again to the same schema', async (name, index) => {
    const atHead = await schemaObjects(db);
    // Step down to just below this migration, then back up one at a time.
    const steps = names.length - index;
    const reverted = await migrate({ databaseUrl: db.url, direction: 'down', count: steps });
    expect(reverted[reverted.length - 1]).toBe(name);
    expect(await appliedNames(db)).toEqual(names.slice(0, index));
    const single = await migrate({ databaseUrl: db.url, direction: 'up', count: 1 });
    expect(single).toEqual([name]);
    await migrate({ databaseUrl: db.url });
    expect(await appliedNames(db)).toEqual(names);
    expect(await schemaObjects(db)).toEqual(atHead);
  });

  it('goes down to zero, leaving no Ferry objects, and up to head again', async () => {
    const atHead = await schemaObjects(db);
    const reverted = await migrate({ databaseUrl: db.url, direction: 'down', count: Infinity });
    expect(reverted).toEqual([...names].reverse());
    expect(await schemaObjects(db)).toEqual([]);
    expect(await pendingMigrations(db.pool)).toEqual(names);
    await migrate({ databaseUrl: db.url });
    expect(await schemaObjects(db)).toEqual(atHead);
  });

  it('keeps the rows of a populated database through a round trip of the newest migration', async () => {
    await db.pool.query(`
      INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, size_bytes, metadata)
      SELECT 'p' || g, CASE WHEN g % 2 = 0 THEN 'image' ELSE 'ms' END, 'stage/p' || g, 'dest/p' || g, 'file',
             CASE WHEN g % 3 = 0 THEN 'published'::product_status ELSE 'staging'::product_status END, g * 10,
             jsonb_build_object('n', g)
        FROM generate_series(1, 500) g`);
    await db.pool.query(`
      INSERT INTO product_events (product_id, data_id, event, to_status)
      SELECT id, data_id, 'registered', 'staging' FROM products`);
    const tablesNow = async (): Promise<string[]> => {
      const res = await db.pool.query<{ t: string }>(
        `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations' ORDER BY 1`,
      );
      return res.rows.map((r) => r.t);
    };
    // The status counts are sums kept over shards: which shard holds what is the trigger's own
    // layout (a migration may lay them out anew), the sums per (data_type, status) are the data.
    const rowsOf: Record<string, string> = {
      product_status_counts: 'SELECT data_type, status, sum(count) AS count FROM product_status_counts GROUP BY 1, 2 HAVING sum(count) <> 0',
    };
    const snapshot = async (tables: string[]): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      for (const t of tables) {
        // The text of every row, ordered, so a lost or altered row changes the digest.
        const res = await db.pool.query<{ n: string; digest: string }>(
          `SELECT count(*)::text AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS digest FROM ${rowsOf[t] ? `(${rowsOf[t]})` : `"${t}"`} x`,
        );
        out[t] = `${res.rows[0]!.n}:${res.rows[0]!.digest}`;
      }
      return out;
    };
    const before = await snapshot(await tablesNow());
    expect(before.products).toMatch(/^500:/);
    expect(before.product_events).toMatch(/^500:/);

    if (names.length === 1) {
      // The only migration creates the registry, so its round trip is the down-to-zero case above;
      // here re-applying head to a populated database must change nothing.
      expect(await migrate({ databaseUrl: db.url })).toEqual([]);
      expect(await snapshot(await tablesNow())).toEqual(before);
      return;
    }
    const newest = names[names.length - 1]!;
    expect(await migrate({ databaseUrl: db.url, direction: 'down', count: 1 })).toEqual([newest]);
    // Tables the newest migration created are gone now (and those it dropped are back, empty, until
    // it runs again); every table that was there before must keep its rows.
    const survivors = (await tablesNow()).filter((t) => t in before);
    expect(survivors).toEqual(expect.arrayContaining(['products', 'product_events']));
    expect(await migrate({ databaseUrl: db.url })).toEqual([newest]);
    const after = await snapshot(survivors);
    expect(after).toEqual(Object.fromEntries(survivors.map((t) => [t, before[t]])));
  });
});

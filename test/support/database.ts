import crypto from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrate } from '../../services/core/db/migrate';
// Same int8 parsing as the services use.
import '../../services/core/db/pool';

/** The server the tests create their databases on (trust auth on loopback here and in CI). */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  /** Closes the pool, ends other connections and drops the database. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * The plan PostgreSQL would choose for sql with sequential scans priced out: on a small test table
 * a seq scan is cheapest, so this shows the index (or the missing index) a large registry would use.
 */
export async function planWithoutSeqScans(pool: Pool, sql: string): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    return (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
}

/** The URL of a database called name on the test server. */
export function databaseUrl(name: string): string {
  const u = new URL(ADMIN_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops a database, ending any connection still open to it. */
export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/**
 * Empties every registry table — products, their events, the per-status counts, the hourly
 * attempt figures and the latest outcomes the triggers keep — in one statement, for tests that
 * start over in one database.
 */
export async function emptyRegistry(pool: Pool): Promise<void> {
  // CASCADE: tables that reference products (lineage, for one) empty with it.
  await pool.query('TRUNCATE products, product_events, product_status_counts, latest_outcome_hours RESTART IDENTITY CASCADE');
}

/** Creates an empty database of its own for one test file, migrated to head unless migrated is false. */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `ferry_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(name);
  if (opts.migrated !== false) await migrate({ databaseUrl: url });
  const pool = new Pool({ connectionString: url, max: 10 });
  // An idle client ended from outside (a parallel test's DROP … WITH (FORCE), a restore) must not crash the suite.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await dropDatabase(name);
    },
  };
}

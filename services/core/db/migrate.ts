import fs from 'node:fs';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { Client } from 'pg';
import type { Queryable } from './pool';

/** The SQL migrations, shipped beside this module in both the sources and dist/. */
export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
export const MIGRATIONS_TABLE = 'pgmigrations';
/** node-pg-migrate's advisory lock key (PG_MIGRATE_LOCK_ID in its runner); migrate.test.ts proves they agree. */
export const MIGRATION_LOCK_KEY = '7241865325823964';
/** What node-pg-migrate throws when another session holds its lock. */
const LOCK_TAKEN = 'Another migration is already running';

/** Names of every migration file, in the order they apply. */
export function migrationNames(): string[] {
  return fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

export interface MigrateOptions {
  databaseUrl: string;
  direction?: 'up' | 'down';
  count?: number;
  log?: (msg: string) => void;
  /**
   * How long to wait while another process holds the migration lock, then run (finding the
   * schema at head, usually). 0, the default: fail at once, as node-pg-migrate does.
   */
  lockWaitMs?: number;
  /** Told each time the lock is found taken, before the wait for its release. */
  onLockTaken?: (waitedMs: number) => void;
}

/**
 * Applies (or reverts) migrations. node-pg-migrate holds a PostgreSQL advisory lock while it
 * runs, so api replicas and the one-shot migrate container never race each other; with
 * lockWaitMs a process that finds the lock taken waits for it instead of failing.
 */
export async function migrate(opts: MigrateOptions): Promise<string[]> {
  const limitMs = opts.lockWaitMs ?? 0;
  const started = Date.now();
  for (;;) {
    try {
      return await runOnce(opts);
    } catch (err) {
      const waited = Date.now() - started;
      if ((err as Error).message !== LOCK_TAKEN || waited >= limitMs) throw err;
      opts.onLockTaken?.(waited);
      await waitForLockRelease(opts.databaseUrl, limitMs - waited, limitMs);
    }
  }
}

/**
 * Blocks until the session holding the migration lock lets it go (an event, not a poll), then
 * lets it go at once: the runner takes it again on its own connection, and a third process
 * that got there first only means one more wait.
 */
async function waitForLockRelease(databaseUrl: string, remainingMs: number, limitMs: number): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, statement_timeout: Math.max(1, Math.ceil(remainingMs)) });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
  } catch (err) {
    if ((err as { code?: string }).code === '57014') {
      throw new Error(`another process held the migration lock for more than ${Math.round(limitMs / 1000)} s`, { cause: err });
    }
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runOnce(opts: MigrateOptions): Promise<string[]> {
  const ran = await runner({
    databaseUrl: opts.databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: opts.direction ?? 'up',
    count: opts.count ?? Infinity,
    singleTransaction: true,
    checkOrder: true,
    log: opts.log ?? (() => undefined),
  });
  return ran.map((m) => m.name);
}

/** The migrations still to apply; empty means the schema is at head. */
export async function pendingMigrations(db: Queryable): Promise<string[]> {
  const all = migrationNames();
  let applied: string[] = [];
  try {
    const res = await db.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
    applied = res.rows.map((r) => r.name);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P01') throw err; // undefined_table: nothing applied yet
  }
  const done = new Set(applied);
  return all.filter((n) => !done.has(n));
}

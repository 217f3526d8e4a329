import fs from 'node:fs';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Queryable } from './pool';

/** The SQL migrations, shipped beside this module in both the sources and dist/. */
export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
export const MIGRATIONS_TABLE = 'pgmigrations';

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
}

/**
 * Applies (or reverts) migrations. node-pg-migrate holds a PostgreSQL advisory lock while it
 * runs, so api replicas and the one-shot migrate container never race each other.
 */
export async function migrate(opts: MigrateOptions): Promise<string[]> {
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

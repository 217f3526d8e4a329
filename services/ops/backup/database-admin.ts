import { BackupError } from './backup-error';
import { archiveInput, pgCommand, type PgTarget } from './pg-target';
import { PsqlSession } from './psql-session';
import { parseSnapshot, SNAPSHOT_SESSION_SQL, SNAPSHOT_SQL, type RegistrySnapshot } from './registry-snapshot';
import { runCommand } from './run-command';

// CREATE/DROP DATABASE run from the maintenance database.
const MAINTENANCE_DB = 'postgres';

/** A database name quoted as an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs SQL that prints nothing, on a database of the target (the maintenance database by default). */
export async function execSql(target: PgTarget, sql: string, database = MAINTENANCE_DB): Promise<string> {
  return runCommand(pgCommand(target, 'psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], database), { env: target.env });
}

/** The newest applied migration of the target's database (null: none), the schema level backups record. */
export async function readSchemaLevel(target: PgTarget): Promise<string | null> {
  return (await execSql(target, 'SELECT max(name) FROM pgmigrations', target.database)).trim() || null;
}

/** Whether a database of that name exists on the target's server. */
export async function databaseExists(target: PgTarget, name: string): Promise<boolean> {
  const out = await execSql(target, `SELECT 1 FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`);
  return out.trim() === '1';
}

/** Drops a database, ending every connection to it first (PostgreSQL 13+ WITH (FORCE)). */
export async function dropDatabase(target: PgTarget, name: string): Promise<void> {
  await execSql(target, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** Creates an empty database. */
export async function createDatabase(target: PgTarget, name: string): Promise<void> {
  await execSql(target, `CREATE DATABASE ${quoteIdent(name)}`);
}

/**
 * Restores a custom-format archive into an empty database in one transaction: it either holds the
 * whole backup or nothing. Objects are owned by the restoring role (--no-owner), which is the
 * application's role in the stack.
 */
export async function restoreArchive(target: PgTarget, dump: string, database: string): Promise<void> {
  const input = archiveInput(target, dump);
  const args = ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', ...input.args];
  await runCommand(pgCommand(target, 'pg_restore', args, database), { env: target.env, stdinFile: input.stdinFile });
}

/** Row counts, schema level and product checksum of a database, read the same way the backup reads them. */
export async function readSnapshot(target: PgTarget, database?: string): Promise<RegistrySnapshot> {
  const session = new PsqlSession(target, database);
  try {
    session.send(SNAPSHOT_SESSION_SQL);
    const snapshot = parseSnapshot(await session.queryLine(SNAPSHOT_SQL));
    await session.close();
    return snapshot;
  } catch (err) {
    session.kill();
    throw err instanceof BackupError ? err : new BackupError(String(err));
  }
}

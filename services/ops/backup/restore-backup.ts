import { BackupError } from './backup-error';
import { readMetadata, type BackupMetadata } from './backup-files';
import { createBackup, type BackupResult } from './create-backup';
import { createDatabase, databaseExists, dropDatabase, readSnapshot, restoreArchive } from './database-admin';
import type { PgTarget } from './pg-target';
import { compareSnapshots } from './registry-snapshot';
import { verifyArchive } from './verify-archive';

/** What differs between the compose stack and a database reached directly. */
export interface RestoreHooks {
  /** Stops the api and worker, or tells the operator to. */
  stopApplications(): Promise<void>;
  /** Starts them again after a successful restore, or tells the operator to. */
  startApplications(): Promise<void>;
  /** Applies migrations to head on the restored database. */
  migrateToHead(): Promise<void>;
  /** Asks the operator; resolves false to abort. */
  confirm(question: string): Promise<boolean>;
}

export interface RestoreDeps {
  target: PgTarget;
  hooks: RestoreHooks;
  ferryVersion: string;
  log: (msg: string) => void;
}

export interface RestoreOptions {
  dump: string;
  /** Where the safety backup of the current database goes. */
  safetyDir: string;
  compressLevel: number;
  /** The command that restores a backup, for the roll-back instructions. */
  restoreCommand: string;
}

/** The steps a restore took, for the caller's report. */
export interface RestoreReport {
  safety?: BackupResult;
  verified: string[];
}

/**
 * The checks a restore starts with, which touch nothing: the archive's checksum and table of
 * contents, and a metadata file that does not record a failed backup. Returns the metadata, if any.
 */
export async function checkBackup(target: PgTarget, dump: string, log: (msg: string) => void): Promise<BackupMetadata | undefined> {
  await verifyArchive(target, dump);
  const metadata = await readMetadata(dump);
  if (!metadata) log(`warning: no metadata beside ${dump}; row counts cannot be verified after the restore`);
  else if (metadata.status !== 'ok') throw new BackupError(`${dump} is recorded as a failed backup (${metadata.error ?? 'no reason'}); refusing to restore it`);
  log(`archive ${dump} verified (checksum and table of contents)`);
  return metadata;
}

/**
 * Restores BACKUP over the registry: checksum first (nothing is touched if it fails), a safety
 * backup of the current database, confirmation, stop the applications, drop and recreate the
 * database (ending every connection), restore in one transaction, compare row counts with the
 * metadata, migrate to head. Any failure after the safety backup names the command that rolls back.
 */
export async function restoreBackup(deps: RestoreDeps, opts: RestoreOptions): Promise<RestoreReport> {
  const { target, hooks, log } = deps;
  const db = target.database;
  const metadata = await checkBackup(target, opts.dump, log);

  const exists = await databaseExists(target, db);
  const question = `Replace database "${db}"${exists ? ' and everything in it' : ''} with ${opts.dump}?`;
  if (!(await hooks.confirm(question))) throw new BackupError('restore cancelled: nothing was changed');

  let safety: BackupResult | undefined;
  if (exists) {
    try {
      safety = await createBackup({ target, ferryVersion: deps.ferryVersion, log }, { dir: opts.safetyDir, prefix: 'ferry-pre-restore', compressLevel: opts.compressLevel });
    } catch (err) {
      throw new BackupError(`safety backup of the current database failed, nothing was changed: ${(err as Error).message}`);
    }
  } else {
    log(`database "${db}" does not exist yet: no safety backup needed`);
  }

  const rollback = safety
    ? `To put the database back as it was before this restore, run:\n  ${opts.restoreCommand} --yes ${safety.paths.dump}`
    : 'There was no database before this restore, so there is nothing to roll back to.';
  let changed = false;
  try {
    await hooks.stopApplications();
    log(`dropping and recreating "${db}" (open connections are terminated)`);
    changed = true;
    await dropDatabase(target, db);
    await createDatabase(target, db);
    await restoreArchive(target, opts.dump, db);
    const verified: string[] = [];
    if (metadata) {
      const problems = compareSnapshots(metadata, await readSnapshot(target), { checksum: true });
      if (problems.length) throw new BackupError(`restored database does not match the backup's metadata:\n  ${problems.join('\n  ')}`);
      verified.push(`${Object.keys(metadata.row_counts).length} tables' row counts and the product checksum match the metadata`);
      log(`restored: ${verified[0]}`);
    }
    await hooks.migrateToHead();
    if (metadata) {
      // Migrations may add tables or columns, but must never lose products.
      const after = await readSnapshot(target);
      if (after.row_counts.products !== metadata.row_counts.products) {
        throw new BackupError(`after migrating, products has ${after.row_counts.products} rows; the backup had ${metadata.row_counts.products}`);
      }
      verified.push(`products still holds ${after.row_counts.products} rows at schema ${after.schema_level}`);
    }
    await hooks.startApplications();
    return { safety, verified };
  } catch (err) {
    throw new BackupError(`restore failed: ${(err as Error).message}\n${rollback}`, { databaseChanged: changed });
  }
}

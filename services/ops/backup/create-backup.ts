import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncFile, sha256File, sha256Line, syncDir, writeFileAtomic } from './atomic-file';
import { BackupError } from './backup-error';
import { backupPaths, utcStamp, type BackupMetadata, type BackupPaths } from './backup-files';
import { pgCommand, type PgTarget } from './pg-target';
import { PsqlSession } from './psql-session';
import { parseSnapshot, SNAPSHOT_SESSION_SQL, SNAPSHOT_SQL, type RegistrySnapshot } from './registry-snapshot';
import { runCommand } from './run-command';
import { verifyArchive } from './verify-archive';

export interface CreateBackupDeps {
  target: PgTarget;
  ferryVersion: string;
  now?: () => Date;
  log: (msg: string) => void;
}

export interface CreateBackupOptions {
  dir: string;
  /** File name prefix: `ferry` for the nightly backups, another for safety backups outside retention. */
  prefix: string;
  /** pg_dump compression level (custom format). */
  compressLevel: number;
}

/** The outcome of one attempt: the metadata (status ok or failed) and where it was written. */
export interface BackupResult {
  paths: BackupPaths;
  metadata: BackupMetadata;
}

/**
 * Dumps the registry in custom format under a temporary name, renames it into place, writes its
 * .sha256 and metadata, and verifies it (checksum + pg_restore --list). Throws BackupError on any
 * failure after recording a metadata file with status "failed", so retention and operators see it.
 */
export async function createBackup(deps: CreateBackupDeps, opts: CreateBackupOptions): Promise<BackupResult> {
  const now = deps.now ?? (() => new Date());
  await fsp.mkdir(opts.dir, { recursive: true });
  const paths = await freshPaths(opts.dir, opts.prefix, now);
  const started = now();
  const tmp = path.join(opts.dir, `.${paths.stem}.dump.tmp`);
  const base = {
    format: 1 as const,
    file: path.basename(paths.dump),
    started_at: started.toISOString(),
    ferry_version: deps.ferryVersion,
    database: deps.target.database,
  };
  let snapshot: RegistrySnapshot = { row_counts: {}, schema_level: null, products_checksum: null };
  let sha256: string | null = null;
  let size = 0;
  try {
    snapshot = await dumpWithSnapshot(deps, opts, tmp);
    await fsyncFile(tmp);
    sha256 = await sha256File(tmp);
    size = (await fsp.stat(tmp)).size;
    await fsp.rename(tmp, paths.dump);
    await syncDir(opts.dir);
    await writeFileAtomic(paths.sha256, sha256Line(sha256, paths.dump));
    await verifyArchive(deps.target, paths.dump);
    const metadata: BackupMetadata = { ...base, ...snapshot, status: 'ok', ...finish(started, now()), size_bytes: size, sha256 };
    await writeFileAtomic(paths.metadata, `${JSON.stringify(metadata, null, 2)}\n`);
    deps.log(`backup ${paths.dump} ok: ${size} bytes, ${metadata.duration_seconds}s, schema ${snapshot.schema_level ?? 'empty'}`);
    return { paths, metadata };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    const error = err instanceof Error ? err.message : String(err);
    const metadata: BackupMetadata = { ...base, ...snapshot, status: 'failed', error, ...finish(started, now()), size_bytes: size, sha256 };
    await writeFileAtomic(paths.metadata, `${JSON.stringify(metadata, null, 2)}\n`).catch(() => undefined);
    throw err instanceof BackupError ? err : new BackupError(error);
  }
}

function finish(started: Date, end: Date): { finished_at: string; duration_seconds: number } {
  return { finished_at: end.toISOString(), duration_seconds: Math.round(end.getTime() - started.getTime()) / 1000 };
}

/** Names are per second; a second attempt within the same second waits for the next one. */
async function freshPaths(dir: string, prefix: string, now: () => Date): Promise<BackupPaths> {
  for (;;) {
    const paths = backupPaths(dir, prefix, utcStamp(now()));
    const taken = await Promise.all([paths.dump, paths.metadata].map((f) => fsp.access(f).then(() => true, () => false)));
    if (!taken.includes(true)) return paths;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * pg_dump inside a snapshot exported by an open REPEATABLE READ transaction, with the row counts
 * and product checksum read in that same transaction.
 */
async function dumpWithSnapshot(deps: CreateBackupDeps, opts: CreateBackupOptions, tmp: string): Promise<RegistrySnapshot> {
  const session = new PsqlSession(deps.target);
  try {
    session.send(SNAPSHOT_SESSION_SQL);
    session.send('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;');
    const snapshotId = (await session.queryLine('SELECT pg_export_snapshot();')).trim();
    if (!/^[0-9A-F-]+$/i.test(snapshotId)) throw new BackupError(`unexpected snapshot id from psql: ${snapshotId}`);
    const snapshot = parseSnapshot(await session.queryLine(SNAPSHOT_SQL));
    const dump = pgCommand(deps.target, 'pg_dump', ['--format=custom', `--compress=${opts.compressLevel}`, `--snapshot=${snapshotId}`, '--no-password']);
    await runCommand(dump, { env: deps.target.env, stdoutFile: tmp });
    await session.close('COMMIT;');
    return snapshot;
  } catch (err) {
    session.kill();
    throw err;
  }
}

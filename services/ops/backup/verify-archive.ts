import { readSha256File, sha256File } from './atomic-file';
import { BackupError } from './backup-error';
import { archiveInput, pgCommand, type PgTarget } from './pg-target';
import { runCommand } from './run-command';

/** Refuses an archive whose SHA-256 differs from its .sha256 file (or that has none). */
export async function verifyChecksum(dump: string): Promise<string> {
  const expected = await readSha256File(`${dump}.sha256`);
  if (!expected) throw new BackupError(`${dump}.sha256 is missing or unreadable: cannot prove the archive is intact`);
  const actual = await sha256File(dump).catch((e: Error) => {
    throw new BackupError(`cannot read ${dump}: ${e.message}`);
  });
  if (actual !== expected) throw new BackupError(`checksum mismatch for ${dump}: expected ${expected}, got ${actual} (the file is corrupted or was changed)`);
  return actual;
}

/** Checksum, then `pg_restore --list`: the archive is intact and PostgreSQL can read its table of contents. */
export async function verifyArchive(target: PgTarget, dump: string): Promise<void> {
  await verifyChecksum(dump);
  const input = archiveInput(target, dump);
  const list = await runCommand(pgCommand(target, 'pg_restore', ['--list', ...input.args]), { env: target.env, stdinFile: input.stdinFile });
  if (!list.includes('; Archive created at')) {
    throw new BackupError(`pg_restore --list printed no table of contents for ${dump}`);
  }
}

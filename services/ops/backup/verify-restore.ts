import { BackupError } from './backup-error';
import { listBackups, readMetadata, utcStamp } from './backup-files';
import { createDatabase, dropDatabase, readSnapshot, restoreArchive } from './database-admin';
import type { PgTarget } from './pg-target';
import { compareSnapshots } from './registry-snapshot';
import { verifyArchive } from './verify-archive';

export interface VerifyRestoreResult {
  dump: string;
  scratch: string;
  rows: number;
}

/**
 * Restores the newest good backup into a scratch database on the same server and compares its row
 * counts and the checksum of every product row with the backup's metadata; always drops the scratch.
 */
export async function verifyRestore(
  deps: { target: PgTarget; log: (msg: string) => void; now?: () => Date },
  opts: { dir: string; prefix: string },
): Promise<VerifyRestoreResult> {
  const good = (await listBackups(opts.dir, opts.prefix)).filter((b) => b.good);
  const newest = good[good.length - 1];
  if (!newest) throw new BackupError(`no good backup in ${opts.dir} to test`);
  const dump = newest.files.find((f) => f.endsWith('.dump'))!;
  const metadata = await readMetadata(dump);
  if (!metadata) throw new BackupError(`metadata for ${dump} is missing or unreadable`);
  await verifyArchive(deps.target, dump);
  const scratch = `ferry_verify_${utcStamp((deps.now ?? (() => new Date()))()).toLowerCase()}_${process.pid}`;
  deps.log(`restoring ${dump} into scratch database ${scratch}`);
  await createDatabase(deps.target, scratch);
  try {
    await restoreArchive(deps.target, dump, scratch);
    const actual = await readSnapshot(deps.target, scratch);
    const problems = compareSnapshots(metadata, actual, { checksum: true });
    if (problems.length) throw new BackupError(`restore test of ${dump} does not match its metadata:\n  ${problems.join('\n  ')}`);
    const rows = Object.values(actual.row_counts).reduce((a, b) => a + b, 0);
    deps.log(`restore test of ${dump} ok: ${rows} rows in ${Object.keys(actual.row_counts).length} tables match, product checksum ${actual.products_checksum}`);
    return { dump, scratch, rows };
  } finally {
    await dropDatabase(deps.target, scratch).catch((e: Error) => deps.log(`could not drop scratch database ${scratch}: ${e.message}`));
  }
}

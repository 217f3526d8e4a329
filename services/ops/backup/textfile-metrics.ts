import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file';

/** The figures node-exporter's textfile collector exposes for the alerts on backups. */
export interface BackupMetrics {
  /** Unix seconds when the newest good backup finished; 0 if there is none. */
  lastSuccessTimestamp: number;
  /** 1 if this attempt succeeded, 0 if it failed. */
  lastAttemptOk: boolean;
  /** How long this attempt took. */
  durationSeconds: number;
  /** Size of the newest good backup. */
  sizeBytes: number;
}

/** Prometheus text exposition of the backup metrics (names fixed by the team contract). */
export function renderBackupMetrics(m: BackupMetrics): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${Number.isFinite(value) ? value : 0}`);
  };
  gauge('ferry_backup_last_success_timestamp_seconds', 'Unix time the newest verified registry backup finished.', Math.floor(m.lastSuccessTimestamp));
  gauge('ferry_backup_last_attempt_status', 'Whether the last backup attempt succeeded (1) or failed (0).', m.lastAttemptOk ? 1 : 0);
  gauge('ferry_backup_duration_seconds', 'Duration of the last backup attempt.', Math.round(m.durationSeconds * 1000) / 1000);
  gauge('ferry_backup_size_bytes', 'Size of the newest verified registry backup.', m.sizeBytes);
  return `${lines.join('\n')}\n`;
}

/** The outcome of the last --verify-restore run. */
export interface VerifyRestoreMetrics {
  timestamp: number;
  ok: boolean;
}

/** Text exposition for the weekly restore test, in a file of its own so the nightly run never overwrites it. */
export function renderVerifyRestoreMetrics(m: VerifyRestoreMetrics): string {
  return [
    '# HELP ferry_backup_verify_restore_last_run_timestamp_seconds Unix time of the last restore test of the newest backup.',
    '# TYPE ferry_backup_verify_restore_last_run_timestamp_seconds gauge',
    `ferry_backup_verify_restore_last_run_timestamp_seconds ${Math.floor(m.timestamp)}`,
    '# HELP ferry_backup_verify_restore_last_status Whether the last restore test matched the backup metadata (1) or not (0).',
    '# TYPE ferry_backup_verify_restore_last_status gauge',
    `ferry_backup_verify_restore_last_status ${m.ok ? 1 : 0}`,
    '',
  ].join('\n');
}

/** File names in the textfile directory; node-exporter reads every *.prom there. */
export const BACKUP_PROM_FILE = 'ferry_backup.prom';
export const VERIFY_RESTORE_PROM_FILE = 'ferry_backup_verify_restore.prom';

/** Writes a .prom file atomically: the collector must never read half a file. */
export async function writeTextfile(dir: string, name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(file, content);
  return file;
}

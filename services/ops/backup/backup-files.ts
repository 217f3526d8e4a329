import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RegistrySnapshot } from './registry-snapshot';

/** Written beside every backup; `status: "ok"` only once the archive has been verified. */
export interface BackupMetadata extends RegistrySnapshot {
  format: 1;
  file: string;
  status: 'ok' | 'failed';
  error?: string;
  started_at: string;
  finished_at: string;
  ferry_version: string;
  database: string;
  duration_seconds: number;
  size_bytes: number;
  sha256: string | null;
}

/** The paths that make up one backup, named after its UTC start time: ferry-20261124T224400Z. */
export interface BackupPaths {
  stem: string;
  dump: string;
  sha256: string;
  metadata: string;
}

/** `20261124T224400Z` for a date (UTC, seconds). */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Parses a utcStamp back into a date. */
export function parseStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** The files of the backup with this prefix and stamp in dir. */
export function backupPaths(dir: string, prefix: string, stamp: string): BackupPaths {
  const stem = `${prefix}-${stamp}`;
  return {
    stem,
    dump: path.join(dir, `${stem}.dump`),
    sha256: path.join(dir, `${stem}.dump.sha256`),
    metadata: path.join(dir, `${stem}.json`),
  };
}

/** The metadata beside a backup file (BACKUP.dump → BACKUP.json), or undefined if absent or unreadable. */
export async function readMetadata(dumpOrMetadata: string): Promise<BackupMetadata | undefined> {
  const file = dumpOrMetadata.replace(/\.dump$/, '.json');
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as BackupMetadata;
  } catch {
    return undefined;
  }
}

/** One backup found in the backup directory. */
export interface FoundBackup {
  stem: string;
  time: Date;
  /** Archive, checksum and metadata with status ok are all present. */
  good: boolean;
  files: string[];
}

/** Every backup in dir whose name is PREFIX-STAMP.*, oldest first. */
export async function listBackups(dir: string, prefix: string): Promise<FoundBackup[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{8}T\\d{6}Z)\\.(dump|dump\\.sha256|json)$`);
  const byStem = new Map<string, { time: Date; files: string[] }>();
  for (const name of names) {
    const m = re.exec(name);
    const time = m && parseStamp(m[1]!);
    if (!m || !time) continue;
    const stem = `${prefix}-${m[1]}`;
    const entry = byStem.get(stem) ?? { time, files: [] };
    entry.files.push(path.join(dir, name));
    byStem.set(stem, entry);
  }
  const out: FoundBackup[] = [];
  for (const [stem, { time, files }] of byStem) {
    const has = (suffix: string) => files.includes(path.join(dir, `${stem}${suffix}`));
    let good = has('.dump') && has('.dump.sha256') && has('.json');
    if (good) good = (await readMetadata(path.join(dir, `${stem}.json`)))?.status === 'ok';
    out.push({ stem, time, good, files: files.sort() });
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime());
}

import fsp from 'node:fs/promises';
import type { FoundBackup } from './backup-files';

/** Which backups a retention pass keeps and which it deletes, with the reason for each kept one. */
export interface RetentionPlan {
  keep: { stem: string; reason: string }[];
  remove: FoundBackup[];
}

/**
 * Keeps every backup from the last `days` days, the newest backup, and the newest GOOD backup
 * however old: when every recent night failed, the last restorable archive must survive.
 */
export function planRetention(backups: FoundBackup[], now: Date, days: number): RetentionPlan {
  const cutoff = now.getTime() - days * 86_400_000;
  const sorted = [...backups].sort((a, b) => a.time.getTime() - b.time.getTime());
  const newest = sorted[sorted.length - 1];
  const newestGood = sorted.filter((b) => b.good).pop();
  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const b of sorted) {
    if (b === newestGood) plan.keep.push({ stem: b.stem, reason: 'newest good backup' });
    else if (b === newest) plan.keep.push({ stem: b.stem, reason: 'newest backup' });
    else if (b.time.getTime() >= cutoff) plan.keep.push({ stem: b.stem, reason: `within ${days} days` });
    else plan.remove.push(b);
  }
  return plan;
}

/** Deletes the files of the backups a plan removes. */
export async function applyRetention(plan: RetentionPlan): Promise<void> {
  for (const b of plan.remove) {
    for (const f of b.files) await fsp.rm(f, { force: true });
  }
}

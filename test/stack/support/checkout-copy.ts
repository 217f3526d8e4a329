import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Copies the working tree as a fresh clone would hold it plus the not-yet-committed, not-ignored
 * files (`git ls-files -co --exclude-standard`): no .env.production, no secrets, no certificates,
 * no node_modules, no dist. Modes (the executable bit) and symlinks are kept.
 */
export function copyCheckout(repoRoot: string, dest: string): number {
  const listed = execFileSync('git', ['-C', repoRoot, 'ls-files', '-co', '--exclude-standard', '-z'], { maxBuffer: 64 * 1024 * 1024 })
    .toString()
    .split('\0')
    .filter(Boolean);
  let copied = 0;
  for (const rel of new Set(listed)) {
    const from = path.join(repoRoot, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(from);
    } catch {
      continue; // deleted in the working tree, not yet in the index
    }
    const to = path.join(dest, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (st.isFile()) {
      fs.copyFileSync(from, to);
      fs.chmodSync(to, st.mode & 0o777);
    } else continue;
    copied += 1;
  }
  return copied;
}

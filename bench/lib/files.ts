import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { timeShell } from './measure';

/** Writes `bytes` of random data: a 16 MiB random block repeated, each copy stamped so none repeats exactly. */
export async function writeRandomFile(file: string, bytes: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const block = crypto.randomBytes(Math.min(bytes, 16 * 1024 * 1024));
  const fh = await fs.open(file, 'w');
  try {
    for (let left = bytes, i = 0; left > 0; left -= block.length, i++) {
      block.writeUInt32LE(i, 0);
      await fh.write(block, 0, Math.min(left, block.length));
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `count` random files of `size` bytes under dir in subdirectories of 500; returns their relative paths. */
export async function writeTree(dir: string, count: number, size: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const rel = path.join(`d${Math.floor(i / 500)}`, `f${String(i).padStart(6, '0')}.fits`);
    if (i % 500 === 0) await fs.mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), crypto.randomBytes(size));
    files.push(rel);
  }
  return files;
}

/** Drops the page cache where allowed (root on Linux); reports whether it did. */
export async function dropCaches(): Promise<boolean> {
  return fs.writeFile('/proc/sys/vm/drop_caches', '3\n').then(() => true, () => false);
}

/**
 * Settles the page cache before a timed run: nothing dirty, every clean page dropped where allowed
 * (root), then `warm` (a shell command that reads the source) puts the source back in the cache.
 * Every contender then starts from the same cache: before, Ferry's earlier publications stayed
 * cached from one run to the next while the tools' outputs were deleted before each of theirs. On
 * this virtual machine where a run's pages come from matters: the first touch of guest memory
 * costs a fault in the host, about 2.6 s of system time per GiB (docs/performance.md).
 */
export async function settlePageCache(warm: string): Promise<void> {
  await timeShell('sync');
  await dropCaches();
  await timeShell(`${warm}; sync`);
}

export async function emptyDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
}

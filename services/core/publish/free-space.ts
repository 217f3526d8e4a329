import fs from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';

/** Bytes available to an unprivileged writer on the file system holding dir. */
export async function availableBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

/** Refuses (as a retryable resource failure) a copy of `size` bytes that would leave less than `margin` free. */
export async function ensureFreeSpace(dir: string, size: number, margin: number): Promise<void> {
  checkFreeSpace(await availableBytes(dir), dir, size, margin);
}

/** ensureFreeSpace's refusal, given the bytes `free` in dir as already read. */
export function checkFreeSpace(free: number, dir: string, size: number, margin: number): void {
  if (free < size + margin) {
    throw new PublishError('no_space', `need ${size} bytes plus a ${margin}-byte margin in ${dir}, only ${free} free`);
  }
}

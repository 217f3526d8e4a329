import fs from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';

/**
 * fsyncs a file or directory by path. An fsync error is fatal for the copy it belongs to: after a
 * failed fsync the kernel may have dropped the dirty pages, so a second fsync can "succeed" over
 * lost data. The caller discards the copy and starts again from the source on the next attempt.
 */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    await syncHandle(fh, p);
  } finally {
    await fh.close();
  }
}

/** fsync of an open handle, with the same never-retry rule. */
export async function syncHandle(fh: fs.FileHandle, p: string): Promise<void> {
  try {
    await fh.sync();
  } catch (err) {
    throw new PublishError('fsync_failed', `fsync of ${p} failed: ${(err as Error).message}`, { cause: err });
  }
}

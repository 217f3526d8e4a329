import type { FileHandle } from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';

/**
 * fsync of an open handle. An fsync error is fatal for the copy it belongs to: after a failed
 * fsync the kernel may have dropped the dirty pages, so a second fsync can "succeed" over lost
 * data. The caller discards the copy and starts again from the source on the next attempt.
 * `label` names the file relative to its root (never a server path).
 */
export async function syncHandle(fh: FileHandle, label: string): Promise<void> {
  try {
    await fh.sync();
  } catch (err) {
    throw new PublishError('fsync_failed', `fsync of ${label} failed: ${(err as Error).message}`, { cause: err });
  }
}

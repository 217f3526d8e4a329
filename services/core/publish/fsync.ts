import fs, { constants as C, type FileHandle } from 'node:fs/promises';
import { at } from './dir-handle';
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

/**
 * fsync of a finished copy left unsynced (`syncLater`), reopened through its directory's handle
 * without following a link. Many at once let the file system merge them into few journal commits.
 */
export async function syncFileAt(dir: FileHandle, name: string, label: string): Promise<void> {
  const fh = await fs.open(at(dir, name), C.O_RDONLY | C.O_NOFOLLOW);
  try {
    await syncHandle(fh, label);
  } finally {
    await fh.close();
  }
}

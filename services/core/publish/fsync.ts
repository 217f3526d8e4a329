import fs, { constants as C, type FileHandle } from 'node:fs/promises';
import { at } from './dir-handle';
import { mapLimit } from './map-limit';
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

/**
 * fsyncs each distinct directory among `dirs` once, whichever handle names it (device and inode),
 * `limit` at a time, so the entries made or removed in it are durable: each item's error (its
 * directory's stat or fsync failed), undefined where its directory was synced.
 */
export async function syncDirsOnce(dirs: ReadonlyArray<{ fh: FileHandle; label: string }>, limit: number): Promise<unknown[]> {
  const errors: unknown[] = dirs.map(() => undefined);
  // A handle several items share is looked at once.
  const byHandle = new Map<FileHandle, number[]>();
  dirs.forEach((d, i) => byHandle.set(d.fh, [...(byHandle.get(d.fh) ?? []), i]));
  const byDir = new Map<string, { fh: FileHandle; label: string; items: number[] }>();
  for (const [fh, items] of byHandle) {
    try {
      const st = await fh.stat();
      const key = `${st.dev}:${st.ino}`;
      const dir = byDir.get(key) ?? { fh, label: dirs[items[0]!]!.label, items: [] };
      dir.items.push(...items);
      byDir.set(key, dir);
    } catch (err) {
      for (const i of items) errors[i] = err;
    }
  }
  await mapLimit([...byDir.values()], limit, async (d) => {
    try {
      await syncHandle(d.fh, d.label);
    } catch (err) {
      for (const i of d.items) errors[i] = err;
    }
  });
  return errors;
}

import fs, { type FileHandle } from 'node:fs/promises';
import { at, isNotDirectory, lstatAt, openDirAt, reopenDir } from './dir-handle';
import { syncHandle } from './fsync';

// Directories (path and inode) whose entry in their parent this process knows to be durable: it
// created and fsynced them, or fsynced their parent once after finding them. Saves a parent fsync
// per publish into an existing directory; bounded so it cannot grow without limit.
const durableDirs = new Map<string, number>();
const DURABLE_DIRS_MAX = 10000;

function rememberDurable(dir: string, ino: number): void {
  if (durableDirs.size >= DURABLE_DIRS_MAX) durableDirs.clear();
  durableDirs.set(dir, ino);
}

/**
 * Walks from the PRODUCTS_ROOT handle to a product's parent, creating what is missing, and returns
 * the parent's handle (the caller closes it). Each step opens one directory through its parent's
 * handle without following links; a component that is a symlink or a file is refused with ENOTDIR.
 * A directory created here is fsynced with its parent; an existing one is trusted only once its
 * parent was fsynced by this process (another worker may have created it a moment ago).
 */
export async function ensureParentDirs(productsRoot: FileHandle, parents: readonly string[]): Promise<FileHandle> {
  let current = await reopenDir(productsRoot);
  let rel = '';
  try {
    for (const part of parents) {
      rel = rel ? `${rel}/${part}` : part;
      let created = false;
      try {
        await fs.mkdir(at(current, part), { mode: 0o755 });
        created = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let next: FileHandle;
      try {
        next = await openDirAt(current, part);
      } catch (err) {
        if (isNotDirectory(err)) throw Object.assign(new Error(`PRODUCTS_ROOT/${rel} exists and is not a directory`), { code: 'ENOTDIR' });
        throw err;
      }
      try {
        const st = await next.stat();
        if (created) await syncHandle(next, `PRODUCTS_ROOT/${rel}`);
        if (created || durableDirs.get(rel) !== st.ino) {
          await syncHandle(current, `PRODUCTS_ROOT/${rel}`);
          rememberDurable(rel, st.ino);
        }
      } catch (err) {
        await next.close();
        throw err;
      }
      await current.close();
      current = next;
    }
    return current;
  } catch (err) {
    await current.close();
    throw err;
  }
}

/**
 * Moves a finished temp copy into its final place without ever replacing anything there, through
 * the two directories' handles (the names inside them are never followed). A file uses link(2) +
 * unlink (link fails with EEXIST when the name is taken, which rename(2) would silently overwrite);
 * a directory uses rename(2), which refuses a non-empty target. Either way the product appears
 * under its final name in one step, complete. Then the final parent and the temp parent are
 * fsynced, unless `syncDirs` is false: a group fsyncs each final parent once, for all its products.
 * Returns 'exists' when the final name was taken.
 */
export async function placeNoClobber(
  temp: { dir: FileHandle; name: string }, final: { dir: FileHandle; name: string }, kind: 'file' | 'directory', label: string, syncDirs = true,
): Promise<'placed' | 'exists'> {
  const from = at(temp.dir, temp.name);
  const to = at(final.dir, final.name);
  try {
    if (kind === 'file') {
      try {
        await fs.link(from, to);
        await fs.unlink(from);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // File systems without hard links: fall back to a checked rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
        if (await lstatAt(final.dir, final.name)) return 'exists';
        await fs.rename(from, to);
      }
    } else {
      if (await lstatAt(final.dir, final.name)) return 'exists';
      await fs.rename(from, to);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return 'exists';
    throw err;
  }
  if (syncDirs) {
    await syncHandle(final.dir, label);
    await syncHandle(temp.dir, label);
  }
  return 'placed';
}

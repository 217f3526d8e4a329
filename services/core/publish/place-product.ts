import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from './fsync';

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
 * Makes sure every directory between PRODUCTS_ROOT and a product's parent exists and is durable:
 * a missing one is created and fsynced, with its parent. An existing one is trusted only once its
 * parent was fsynced by this process (another worker may have created it a moment ago and not
 * fsynced yet). A component that is not a directory (or is a symlink) is refused with ENOTDIR.
 */
export async function ensureParentDirs(productsRoot: string, relative: string): Promise<void> {
  const parts = relative.split('/').slice(0, -1);
  let current = productsRoot;
  for (const part of parts) {
    const next = path.join(current, part);
    let st = await fs.lstat(next).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) {
      try {
        await fs.mkdir(next, { mode: 0o755 });
        await fsyncPath(next);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = await fs.lstat(next);
    }
    if (!st.isDirectory()) throw Object.assign(new Error(`${next} exists and is not a directory`), { code: 'ENOTDIR' });
    if (durableDirs.get(next) !== st.ino) {
      await fsyncPath(current);
      rememberDurable(next, st.ino);
    }
    current = next;
  }
}

/**
 * Moves a finished temp copy into its final place without ever replacing anything there.
 * A file uses link(2) + unlink (link fails with EEXIST when the name is taken, which rename(2)
 * would silently overwrite); a directory uses rename(2), which refuses a non-empty target.
 * Either way the product appears under its final name in one step, complete. Then the final
 * parent and the temp parent are fsynced. Returns 'exists' when the final name was taken.
 */
export async function placeNoClobber(tempPath: string, finalPath: string, kind: 'file' | 'directory'): Promise<'placed' | 'exists'> {
  try {
    if (kind === 'file') {
      try {
        await fs.link(tempPath, finalPath);
        await fs.unlink(tempPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // File systems without hard links: fall back to a checked rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
        if (await exists(finalPath)) return 'exists';
        await fs.rename(tempPath, finalPath);
      }
    } else {
      if (await exists(finalPath)) return 'exists';
      await fs.rename(tempPath, finalPath);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return 'exists';
    throw err;
  }
  await fsyncPath(path.dirname(finalPath));
  await fsyncPath(path.dirname(tempPath));
  return 'placed';
}

/** lstat-based existence (a dangling symlink counts as existing). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

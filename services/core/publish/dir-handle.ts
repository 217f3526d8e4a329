import { constants as C, type BigIntStats, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';
import { FILE_CREATE_FLAGS, FILE_READ_FLAGS, type SourceChange } from './file-thread';

// Handle-relative access without a native addon: `/proc/self/fd/<dirfd>/<name>` makes the kernel
// start the lookup at the directory the handle holds (the magic link is resolved to that open
// directory, never to a path), and only `<name>` is looked up in it. O_NOFOLLOW stops that last
// component from being followed; rename, unlink, mkdir, rmdir and link never follow it anyway.
// Why not openat2 through an addon: docs/security.md.

/** Opens a directory to read entries and open children through. The file flags are the file thread's, which imports nothing of ours. */
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;

/** How a copy says its source is no longer the one scanned, whichever path (thread pool or file thread) noticed. */
const SOURCE_CHANGES: Readonly<Record<SourceChange, string>> = {
  replaced: 'was replaced or removed after it was scanned',
  not_regular: 'is no longer a regular file',
  changed: 'changed while it was copied',
};

/** The `source_changed` error for `label`, worded by what changed. */
export function sourceChanged(label: string, change: SourceChange, cause?: unknown): PublishError {
  return new PublishError('source_changed', `${label} ${SOURCE_CHANGES[change]}`, { cause });
}

/** What an entry is, as the kernel knows it: the same (dev, ino) is the same file. */
export interface Identity {
  dev: number;
  ino: number;
}

/** True when the stats describe the recorded entry. */
export function sameIdentity(st: Stats | BigIntStats | Identity, id: Identity): boolean {
  return Number(st.dev) === id.dev && Number(st.ino) === id.ino;
}

/** A single name inside a directory: never empty, `.`, `..`, or holding a `/` or NUL. */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new PublishError('path_invalid', `${JSON.stringify(name)} is not a single name`);
  }
}

/** The path of an open directory itself (for readdir). */
export function handlePath(dir: FileHandle): string {
  return `/proc/self/fd/${dir.fd}`;
}

/** A path that names `name` inside the open directory `dir`, whatever happens to the path that led there. */
export function at(dir: FileHandle, name: string): string {
  checkName(name);
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** True for the errors an O_NOFOLLOW | O_DIRECTORY open gives for a symlink or a non-directory. */
export function isNotDirectory(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ELOOP' || code === 'ENOTDIR';
}

/** Opens a data root (its path comes from the operator's configuration, so a symlink there is theirs). */
export async function openRoot(rootPath: string): Promise<FileHandle> {
  return fs.open(rootPath, C.O_RDONLY | C.O_DIRECTORY);
}

/**
 * Opens the directory `name` inside `dir` without following a symlink (ELOOP/ENOTDIR when it is one).
 * With `expect`, the opened directory must be that entry: else `source_changed`.
 */
export async function openDirAt(dir: FileHandle, name: string, expect?: Identity, label = name): Promise<FileHandle> {
  const fh = await fs.open(at(dir, name), DIR_FLAGS);
  if (expect) {
    try {
      await checkHandle(fh, expect, label);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }
  return fh;
}

/** Opens the regular file `name` inside `dir` for reading, never following a symlink and never blocking on a FIFO; it must be `expect`. */
export async function openFileAt(dir: FileHandle, name: string, expect: Identity, label = name): Promise<{ fh: FileHandle; st: Stats }> {
  let fh: FileHandle;
  try {
    fh = await fs.open(at(dir, name), FILE_READ_FLAGS);
  } catch (err) {
    if (isNotDirectory(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw sourceChanged(label, 'replaced', err);
    }
    throw err;
  }
  try {
    const st = await checkHandle(fh, expect, label);
    if (!st.isFile()) throw sourceChanged(label, 'not_regular');
    return { fh, st };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Creates `name` inside `dir` exclusively for writing (never through a symlink). */
export async function createFileAt(dir: FileHandle, name: string): Promise<FileHandle> {
  return fs.open(at(dir, name), FILE_CREATE_FLAGS, 0o600);
}

/**
 * The same open file again, opened to write around the page cache (O_DIRECT), or undefined where
 * the file system refuses that (EINVAL). Reopening through the handle's own /proc link reaches that
 * very file, whatever its path now names; creating it with O_DIRECT instead could leave a created
 * file behind on a file system that then refuses the flag.
 */
export async function reopenDirect(fh: FileHandle): Promise<FileHandle | undefined> {
  try {
    return await fs.open(`/proc/self/fd/${fh.fd}`, C.O_WRONLY | C.O_DIRECT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw err;
  }
}

/** fstat of a handle, which must be the recorded entry: anything else is `source_changed`. */
export async function checkHandle(fh: FileHandle, expect: Identity, label: string): Promise<Stats> {
  const st = await fh.stat();
  if (!sameIdentity(st, expect)) throw new PublishError('source_changed', `${label} was replaced after it was scanned`);
  return st;
}

/**
 * Walks from `root` down `parts`, one directory at a time, never following a symlink. Returns the
 * last directory's handle (the caller closes it); intermediate handles are closed on the way.
 */
export async function walkDirs(root: FileHandle, parts: readonly string[]): Promise<FileHandle> {
  let current = root;
  try {
    for (const part of parts) {
      const next = await openDirAt(current, part);
      if (current !== root) await current.close();
      current = next;
    }
  } catch (err) {
    if (current !== root) await current.close();
    throw err;
  }
  // Always a handle of its own, so the caller may close it whatever parts was.
  return current === root ? reopenDir(root) : current;
}

/** A second handle on the directory `root` holds (closed independently of the first). */
export async function reopenDir(root: FileHandle): Promise<FileHandle> {
  return fs.open(handlePath(root), C.O_RDONLY | C.O_DIRECTORY);
}

/** lstat of `name` inside `dir`; undefined when it does not exist. */
export async function lstatAt(dir: FileHandle, name: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(at(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Removes `name` inside `dir` and, for a directory, everything below it, through handles only: a
 * symlink met on the way is unlinked, never followed, so nothing outside `dir` can be reached.
 * Directories are made writable by their owner first (a preserved read-only mode would refuse).
 * `likely` says what the caller expects there: one `unlink` (a file) or `rmdir` (an empty
 * directory) is tried first, neither of which follows a link; anything else there goes the long way.
 */
export async function removeTreeAt(dir: FileHandle, name: string, likely?: 'file' | 'empty directory'): Promise<void> {
  if (likely) {
    try {
      await (likely === 'file' ? fs.unlink(at(dir, name)) : fs.rmdir(at(dir, name)));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    }
  }
  const st = await lstatAt(dir, name);
  if (!st) return;
  if (!st.isDirectory()) {
    await fs.unlink(at(dir, name)).catch(ignoreMissing);
    return;
  }
  const sub = await openDirAt(dir, name, { dev: st.dev, ino: st.ino }, name);
  try {
    if ((st.mode & 0o700) !== 0o700) await sub.chmod(0o700).catch(() => undefined);
    for (const child of await fs.readdir(handlePath(sub))) await removeTreeAt(sub, child);
  } finally {
    await sub.close();
  }
  await fs.rmdir(at(dir, name)).catch(ignoreMissing);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

/** Closes handles, ignoring those already closed or never opened. */
export async function closeAll(handles: Iterable<FileHandle | undefined>): Promise<void> {
  await Promise.allSettled([...handles].map((h) => h?.close()));
}

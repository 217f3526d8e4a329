import fs, { type FileHandle } from 'node:fs/promises';
import { constants as C, type Stats } from 'node:fs';
import { PublishError } from '../errors/publish-error';
import type { ProductKind } from '../repositories/product.types';
import { at, handlePath, isNotDirectory, lstatAt, openDirAt, type Identity } from './dir-handle';
import type { LstatRecord } from './file-thread';
import { fileThreadsAvailable, lstatOnThreads } from './file-threads';
import { mapLimit } from './map-limit';
import { hasControlChar } from './product-paths';

const LSTAT_IN_FLIGHT = 16;

/** One entry of a product tree as seen before (and again after) the copy. */
export interface TreeEntry extends Identity {
  /** Path relative to the product root, '/'-separated; '' is the root itself. */
  rel: string;
  type: 'file' | 'directory';
  size: number;
  mode: number;
  mtimeMs: number;
  ctimeMs: number;
  atime: Date;
  mtime: Date;
}

/** A product's tree: the root first, then every entry in walk order (every directory before its contents). */
export interface TreeSnapshot {
  kind: ProductKind;
  entries: TreeEntry[];
  totalSize: number;
  fileCount: number;
}

/** What a walk reads of an lstat: fs.Stats, or a file thread's record as entryStats gives it. */
type EntryStats = Pick<
  Stats,
  'dev' | 'ino' | 'mode' | 'size' | 'mtimeMs' | 'ctimeMs' | 'atime' | 'mtime' | 'isDirectory' | 'isSymbolicLink' | 'isBlockDevice' | 'isCharacterDevice' | 'isFIFO' | 'isSocket'
>;

/** A file thread's lstat record with fs.Stats's answers (its dates as Node makes them: the ms rounded). */
function entryStats(r: LstatRecord): EntryStats {
  const type = r.mode & C.S_IFMT;
  return {
    dev: r.dev, ino: r.ino, mode: r.mode, size: r.size, mtimeMs: r.mtimeMs, ctimeMs: r.ctimeMs,
    atime: new Date(Math.round(r.atimeMs)), mtime: new Date(Math.round(r.mtimeMs)),
    isDirectory: () => type === C.S_IFDIR,
    isSymbolicLink: () => type === C.S_IFLNK,
    isBlockDevice: () => type === C.S_IFBLK,
    isCharacterDevice: () => type === C.S_IFCHR,
    isFIFO: () => type === C.S_IFIFO,
    isSocket: () => type === C.S_IFSOCK,
  };
}

/** lstat of every name inside `dir`: on the file threads, one message for the lot, else several calls in flight on the thread pool. */
async function lstatAll(dir: FileHandle, names: string[]): Promise<EntryStats[]> {
  if (names.length === 0) return [];
  if (fileThreadsAvailable()) return (await lstatOnThreads(dir.fd, names)).map(entryStats);
  return mapLimit(names, LSTAT_IN_FLIGHT, (name) => fs.lstat(at(dir, name)));
}

function describe(st: EntryStats): string | undefined {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return undefined;
}

function entry(rel: string, st: EntryStats): TreeEntry {
  return {
    rel,
    type: st.isDirectory() ? 'directory' : 'file',
    size: st.isDirectory() ? 0 : st.size,
    mode: st.mode & 0o7777,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    atime: st.atime,
    mtime: st.mtime,
    dev: st.dev,
    ino: st.ino,
  };
}

/**
 * Walks the product `name` inside the open directory `parent` and records every entry, with its
 * (dev, ino): every handle opened later must match. Directories are entered through handles opened
 * without following links, each checked to be the entry listed, so the walk never leaves the
 * product. Only regular files and directories are allowed: anything else is a permanent
 * `unsupported_file_type`. A missing root is `missingClass`; a root of the wrong kind is
 * `path_invalid`. `label` names the product in messages (relative to its root, never a server path).
 */
export async function scanTree(parent: FileHandle, name: string, kind: ProductKind, label: string, missingClass: 'source_missing' | 'io_error' = 'source_missing'): Promise<TreeSnapshot> {
  const st = await lstatAt(parent, name);
  if (!st) throw new PublishError(missingClass, `${label} does not exist`);
  const odd = describe(st);
  if (odd) throw new PublishError('unsupported_file_type', `${label} is ${odd}`);
  if ((kind === 'file') !== st.isFile()) {
    throw new PublishError('path_invalid', `${label} is not a ${kind === 'file' ? 'regular file' : 'directory'}`);
  }
  const root = entry('', st);
  const entries: TreeEntry[] = [root];
  if (kind === 'directory') {
    const dir = await openScanned(parent, name, root, label);
    try {
      await walk(dir, '', label, entries);
    } finally {
      await dir.close();
    }
  }
  let totalSize = 0;
  let fileCount = 0;
  for (const e of entries) {
    if (e.type === 'file') {
      totalSize += e.size;
      fileCount++;
    }
  }
  return { kind, entries, totalSize, fileCount };
}

/** Opens a directory the walk listed; a symlink or another directory in its place is `source_changed`. */
async function openScanned(parent: FileHandle, name: string, e: TreeEntry, label: string): Promise<FileHandle> {
  try {
    return await openDirAt(parent, name, e, label);
  } catch (err) {
    if (isNotDirectory(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PublishError('source_changed', `${label} was replaced or removed while it was scanned`, { cause: err });
    }
    throw err;
  }
}

async function walk(dir: FileHandle, rel: string, label: string, out: TreeEntry[]): Promise<void> {
  const here = rel ? `${label}/${rel}` : label;
  const names = (await fs.readdir(handlePath(dir))).sort();
  for (const name of names) {
    if (hasControlChar(name)) throw new PublishError('unsupported_file_type', `${JSON.stringify(`${here}/${name}`)} has a control character in its name`);
  }
  // A product may hold thousands of names: one round trip for them all where the file threads run.
  const stats = await lstatAll(dir, names);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const st = stats[i]!;
    const childRel = rel ? `${rel}/${name}` : name;
    const odd = describe(st);
    if (odd) throw new PublishError('unsupported_file_type', `${here}/${name} is ${odd}; a directory product may hold only regular files and directories`);
    const e = entry(childRel, st);
    out.push(e);
    if (st.isDirectory()) {
      const sub = await openScanned(dir, name, e, `${here}/${name}`);
      try {
        await walk(sub, childRel, label, out);
      } finally {
        await sub.close();
      }
    }
  }
}

/**
 * Describes the first difference between two snapshots of the same tree, or undefined when they
 * match: every entry must be the same one (dev, ino) and every file unchanged (size, mtime, ctime).
 */
export function snapshotDifference(before: TreeSnapshot, after: TreeSnapshot): string | undefined {
  if (before.fileCount !== after.fileCount || before.entries.length !== after.entries.length) {
    return `entry count changed (${before.entries.length} → ${after.entries.length})`;
  }
  for (let i = 0; i < before.entries.length; i++) {
    const a = before.entries[i]!;
    const b = after.entries[i]!;
    if (a.rel !== b.rel || a.type !== b.type) return `entries changed at ${a.rel || '.'}`;
    if (a.dev !== b.dev || a.ino !== b.ino) return `${a.rel || '.'} was replaced by another entry`;
    if (a.type === 'file' && (a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ctimeMs !== b.ctimeMs)) {
      return `${a.rel || 'file'} changed (size, mtime or ctime)`;
    }
  }
  return undefined;
}

import fs from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { PublishError } from '../errors/publish-error';
import type { ProductKind } from '../repositories/product.types';
import { mapLimit } from './map-limit';
import { hasControlChar } from './product-paths';

const LSTAT_IN_FLIGHT = 16;

/** One entry of a product tree as seen before (and again after) the copy. */
export interface TreeEntry {
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

/** A product's tree: the root first, then every entry in walk order. */
export interface TreeSnapshot {
  kind: ProductKind;
  entries: TreeEntry[];
  totalSize: number;
  fileCount: number;
}

function describe(st: Stats): string | undefined {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return undefined;
}

function entry(rel: string, st: Stats): TreeEntry {
  return {
    rel,
    type: st.isDirectory() ? 'directory' : 'file',
    size: st.isDirectory() ? 0 : st.size,
    mode: st.mode & 0o7777,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    atime: st.atime,
    mtime: st.mtime,
  };
}

/**
 * Walks a product with lstat (never following links) and returns its tree. Only regular files and
 * directories are allowed: anything else is a permanent `unsupported_file_type`. A missing root is
 * `source_missing`; a root of the wrong kind is `path_invalid`. Async throughout, so the event loop
 * (lease and lock renewal) keeps running over trees of any size.
 */
export async function scanTree(root: string, kind: ProductKind, missingClass: 'source_missing' | 'io_error' = 'source_missing'): Promise<TreeSnapshot> {
  let st: Stats;
  try {
    st = await fs.lstat(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PublishError(missingClass, `${root} does not exist`);
    throw err;
  }
  const odd = describe(st);
  if (odd) throw new PublishError('unsupported_file_type', `${root} is ${odd}`);
  if ((kind === 'file') !== st.isFile()) {
    throw new PublishError('path_invalid', `${root} is not a ${kind === 'file' ? 'regular file' : 'directory'}`);
  }
  const entries: TreeEntry[] = [entry('', st)];
  if (kind === 'directory') await walk(root, '', entries);
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

async function walk(root: string, rel: string, out: TreeEntry[]): Promise<void> {
  const dir = rel ? path.join(root, rel) : root;
  const names = (await fs.readdir(dir)).sort();
  for (const name of names) {
    if (hasControlChar(name)) throw new PublishError('unsupported_file_type', `${path.join(dir, name)} has a control character in its name`);
  }
  // Several lstat calls in flight: each is a thread-pool round trip, and a product may hold thousands.
  const stats = await mapLimit(names, LSTAT_IN_FLIGHT, (name) => fs.lstat(path.join(dir, name)));
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const st = stats[i]!;
    const childRel = rel ? `${rel}/${name}` : name;
    const odd = describe(st);
    if (odd) throw new PublishError('unsupported_file_type', `${path.join(dir, name)} is ${odd}; a directory product may hold only regular files and directories`);
    out.push(entry(childRel, st));
    if (st.isDirectory()) await walk(root, childRel, out);
  }
}

/** Describes the first difference between two snapshots of the same tree, or undefined when they match. */
export function snapshotDifference(before: TreeSnapshot, after: TreeSnapshot): string | undefined {
  if (before.fileCount !== after.fileCount || before.entries.length !== after.entries.length) {
    return `entry count changed (${before.entries.length} → ${after.entries.length})`;
  }
  for (let i = 0; i < before.entries.length; i++) {
    const a = before.entries[i]!;
    const b = after.entries[i]!;
    if (a.rel !== b.rel || a.type !== b.type) return `entries changed at ${a.rel || '.'}`;
    if (a.type === 'file' && (a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ctimeMs !== b.ctimeMs)) {
      return `${a.rel || 'file'} changed (size, mtime or ctime)`;
    }
  }
  return undefined;
}

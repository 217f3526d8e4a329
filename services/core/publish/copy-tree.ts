import fs, { type FileHandle } from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';
import type { ManifestEntry, ProductKind } from '../repositories/product.types';
import { copyAndHash, checkAborted, DEFAULT_DROP_MODE_BITS, sanitizeMode, type CopyControl, type CopyTarget } from './copy-and-hash';
import { at, closeAll, isNotDirectory, openDirAt, sourceChanged } from './dir-handle';
import { syncFileAt, syncHandle } from './fsync';
import { THREAD_FILE_MAX_BYTES, type FileCopyJob, type FileCopyResult } from './file-thread';
import { callError, copyOnThreads, fileThreadsAvailable } from './file-threads';
import { directoryDigest, sortManifest } from './manifest';
import { mapLimit } from './map-limit';
import { allSettledOrThrow } from './settle-all';
import type { TreeEntry, TreeSnapshot } from './scan-source';

/** What a product is: the figures committed to the registry. */
export interface TreeDigest {
  kind: ProductKind;
  size: number;
  fileCount: number;
  /** SHA-256 of the file, or of the manifest lines for a directory (docs/publishing.md). */
  sha256: string;
  /** Per-file manifest of a directory product; null for a file product. */
  manifest: ManifestEntry[] | null;
}

/** Larger files of a directory product copied at once: each copy waits on the thread pool for its reads and writes. */
const FILES_IN_FLIGHT = 16;
/**
 * A directory product's small files (up to THREAD_FILE_MAX_BYTES) go to the file threads in
 * batches of at most this many files and bytes: one message each way per batch, and the abort
 * signal, progress and bandwidth limit are seen between batches (a few milliseconds apart).
 */
const BATCH_FILES = 32;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches handed over at once: enough that no file thread waits for its next one. */
const BATCHES_IN_FLIGHT = 8;
/**
 * fsyncs in flight once every file is copied. Copied without their own fsync, then synced together,
 * the files reach the disk in a few journal commits instead of one or more per file.
 */
const SYNCS_IN_FLIGHT = 32;
/**
 * Their read/write chunk: up to two buffers per file in flight (one when the file fits in one read;
 * four for a file written around the page cache), so at most 32 MiB per directory product unless
 * several of its files are that large.
 */
const DIRECTORY_FILE_CHUNK = 1024 * 1024;

/** Where a product is read from: its name inside an open directory, and how messages name it. */
export interface CopySource {
  dir: FileHandle;
  name: string;
  /** The product relative to its root, e.g. `STAGE_ROOT/a/b.ms` (never a server path). */
  label: string;
}

/** The small files in batches of at most BATCH_FILES files and BATCH_BYTES bytes. */
function batches(files: readonly TreeEntry[]): TreeEntry[][] {
  const out: TreeEntry[][] = [];
  let batch: TreeEntry[] = [];
  let bytes = 0;
  for (const e of files) {
    if (batch.length > 0 && (batch.length === BATCH_FILES || bytes + e.size > BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += e.size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** A file thread's result as copyAndHash would have given it: the digest, or the error it would have thrown. */
function threadResult(r: FileCopyResult | undefined, label: string): { sha256: string; size: number } {
  if (r && 'sha256' in r) return r;
  if (r && 'change' in r) throw sourceChanged(label, r.change);
  if (r) throw callError(r.failure);
  throw new PublishError('internal', `the file thread returned no result for ${label}`);
}

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

function parentRel(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/**
 * Copies the tree described by `snap` from `src` into `dest` (which must not exist), hashing every
 * byte on the way; with dest undefined it only hashes (used to compare an existing destination).
 * Every source directory and file is opened through its parent's handle without following links
 * and must be the entry the scan recorded, so a path swapped for a symlink mid-copy is never
 * followed (`source_changed`). Files are copied without their own fsync (small ones in batches on
 * the file threads, larger ones FILES_IN_FLIGHT at a time through the thread pool), then fsynced
 * SYNCS_IN_FLIGHT at a time; then directories get their (sanitised) mode and mtime and
 * are fsynced children-first.
 */
export async function copyTree(src: CopySource, dest: CopyTarget | undefined, snap: TreeSnapshot, ctl: CopyControl = {}): Promise<TreeDigest> {
  if (snap.kind === 'file') {
    const r = await copyAndHash(src.dir, src.name, dest, snap.entries[0]!, ctl, src.label);
    return { kind: 'file', size: r.size, fileCount: 1, sha256: r.sha256, manifest: null };
  }
  const dirs = snap.entries.filter((e) => e.type === 'directory');
  const files = snap.entries.filter((e) => e.type === 'file');
  /** An entry's mode as its copy gets it: the bits PUBLISH_MODE_DROP_BITS names dropped. */
  const mode = (e: TreeEntry) => sanitizeMode(e.mode, ctl.dropModeBits ?? DEFAULT_DROP_MODE_BITS);
  // One handle per directory on each side for the whole copy: files are then opened one lookup
  // away from a verified directory.
  const srcDirs = new Map<string, FileHandle>();
  const destDirs = new Map<string, FileHandle>();
  const labelOf = (rel: string) => (rel ? `${src.label}/${rel}` : src.label);
  try {
    // Walk order puts every directory before its contents.
    for (const e of dirs) {
      const parent = e.rel ? srcDirs.get(parentRel(e.rel))! : src.dir;
      const name = e.rel ? baseName(e.rel) : src.name;
      srcDirs.set(e.rel, await openDirAt(parent, name, e, labelOf(e.rel)).catch((err: unknown) => {
        if (isNotDirectory(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw sourceChanged(labelOf(e.rel), 'replaced', err);
        }
        throw err;
      }));
      if (dest) {
        const dParent = e.rel ? destDirs.get(parentRel(e.rel))! : dest.dir;
        const dName = e.rel ? baseName(e.rel) : dest.name;
        await fs.mkdir(at(dParent, dName), { mode: 0o700 });
        destDirs.set(e.rel, await openDirAt(dParent, dName));
      }
    }
    const fileCtl: CopyControl = { ...ctl, chunkBytes: Math.min(ctl.chunkBytes ?? DIRECTORY_FILE_CHUNK, DIRECTORY_FILE_CHUNK), syncLater: true, keepOutput: undefined };
    // Small files go to the file threads unless a type's check must see their bytes here.
    const onThreads = !ctl.observer && fileThreadsAvailable();
    const small = onThreads ? files.filter((e) => e.size <= THREAD_FILE_MAX_BYTES) : [];
    const large = onThreads ? files.filter((e) => e.size > THREAD_FILE_MAX_BYTES) : files;
    // Both lanes settle before a failure is thrown: no batch still names a directory when it is closed.
    const lanes = await allSettledOrThrow<ManifestEntry[]>([
      mapLimit(batches(small), BATCHES_IN_FLIGHT, async (batch) => {
        checkAborted(ctl.signal);
        const jobs: FileCopyJob[] = batch.map((e) => ({
          srcDir: srcDirs.get(parentRel(e.rel))!.fd, name: baseName(e.rel), dev: e.dev, ino: e.ino, size: e.size, mtimeMs: e.mtimeMs,
          destDir: dest ? destDirs.get(parentRel(e.rel))!.fd : undefined, mode: mode(e), atime: e.atime, mtime: e.mtime,
        }));
        const results = await copyOnThreads(jobs);
        const entries = batch.map((e, i) => ({ path: e.rel, ...threadResult(results[i], labelOf(e.rel)) }));
        const bytes = entries.reduce((n, r) => n + r.size, 0);
        ctl.onBytes?.(bytes);
        if (ctl.pace) await ctl.pace(bytes, ctl.signal);
        return entries;
      }).then((perBatch) => perBatch.flat()),
      mapLimit(large, FILES_IN_FLIGHT, async (e) => {
        checkAborted(ctl.signal);
        const dir = srcDirs.get(parentRel(e.rel))!;
        const target = dest ? { dir: destDirs.get(parentRel(e.rel))!, name: baseName(e.rel) } : undefined;
        const r = await copyAndHash(dir, baseName(e.rel), target, e, fileCtl, labelOf(e.rel));
        return { path: e.rel, size: r.size, sha256: r.sha256 };
      }),
    ]);
    const manifest = lanes.flat();
    if (dest) {
      // Every file on disk before the directories that name them are synced.
      await mapLimit(files, SYNCS_IN_FLIGHT, async (e) => {
        checkAborted(ctl.signal);
        await syncFileAt(destDirs.get(parentRel(e.rel))!, baseName(e.rel), labelOf(e.rel));
      });
      // Reverse walk order puts every directory after its children: its mtime is set once nothing
      // more is created inside it, its fsync makes the entries inside it durable, and a mode without
      // search permission is set only after nothing below needs to be opened.
      for (const e of [...dirs].reverse()) {
        const fh = destDirs.get(e.rel)!;
        await fh.chmod(mode(e));
        await fh.utimes(e.atime, e.mtime);
        await syncHandle(fh, labelOf(e.rel));
      }
    }
    const sorted = sortManifest(manifest);
    return { kind: 'directory', size: snap.totalSize, fileCount: snap.fileCount, sha256: directoryDigest(sorted), manifest: sorted };
  } finally {
    await closeAll([...srcDirs.values(), ...destDirs.values()]);
  }
}

/** True when two digests describe the same content. */
export function sameContent(a: TreeDigest, b: TreeDigest): boolean {
  return a.kind === b.kind && a.sha256 === b.sha256 && a.size === b.size && a.fileCount === b.fileCount;
}

import fs from 'node:fs/promises';
import path from 'node:path';
import type { ManifestEntry, ProductKind } from '../repositories/product.types';
import { copyAndHash, checkAborted, type CopyControl } from './copy-and-hash';
import { syncHandle } from './fsync';
import { directoryDigest, sortManifest } from './manifest';
import { mapLimit } from './map-limit';
import type { TreeSnapshot } from './scan-source';

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

/**
 * Files of a directory product copied at once. Each copy waits on the thread pool and on its own
 * fsync; several in flight share the file system's journal commits.
 */
const FILES_IN_FLIGHT = 16;
/** Their read/write chunk: two buffers per file in flight, so at most 32 MiB per directory product. */
const DIRECTORY_FILE_CHUNK = 1024 * 1024;

function join(root: string, rel: string): string {
  return rel ? path.join(root, ...rel.split('/')) : root;
}

/**
 * Copies the tree described by `snap` from srcRoot to destRoot (which must not exist), hashing
 * every byte on the way; with destRoot undefined it only hashes (used to compare an existing
 * destination). Files are copied FILES_IN_FLIGHT at a time, each fsynced as it is closed; then
 * directories get their mode and mtime and are fsynced children-first.
 */
export async function copyTree(srcRoot: string, destRoot: string | undefined, snap: TreeSnapshot, ctl: CopyControl = {}): Promise<TreeDigest> {
  if (snap.kind === 'file') {
    const r = await copyAndHash(srcRoot, destRoot, snap.entries[0]!, ctl);
    return { kind: 'file', size: r.size, fileCount: 1, sha256: r.sha256, manifest: null };
  }
  const dirs = snap.entries.filter((e) => e.type === 'directory');
  const files = snap.entries.filter((e) => e.type === 'file');
  // Walk order puts every directory before its contents.
  if (destRoot) for (const e of dirs) await fs.mkdir(join(destRoot, e.rel), { mode: 0o700 });
  const manifest: ManifestEntry[] = await mapLimit(files, FILES_IN_FLIGHT, async (e) => {
    checkAborted(ctl.signal);
    const r = await copyAndHash(join(srcRoot, e.rel), destRoot ? join(destRoot, e.rel) : undefined, e, { ...ctl, chunkBytes: DIRECTORY_FILE_CHUNK });
    return { path: e.rel, size: r.size, sha256: r.sha256 };
  });
  if (destRoot) {
    // Reverse walk order puts every directory after its children: its mtime is set once nothing
    // more is created inside it, its fsync makes the entries inside it durable, and a mode without
    // search permission is set only after nothing below needs to be opened.
    for (const e of [...dirs].reverse()) {
      const p = join(destRoot, e.rel);
      const fh = await fs.open(p, 'r');
      try {
        await fh.chmod(e.mode);
        await fh.utimes(e.atime, e.mtime);
        await syncHandle(fh, p);
      } finally {
        await fh.close();
      }
    }
  }
  const sorted = sortManifest(manifest);
  return { kind: 'directory', size: snap.totalSize, fileCount: snap.fileCount, sha256: directoryDigest(sorted), manifest: sorted };
}

/** True when two digests describe the same content. */
export function sameContent(a: TreeDigest, b: TreeDigest): boolean {
  return a.kind === b.kind && a.sha256 === b.sha256 && a.size === b.size && a.fileCount === b.fileCount;
}

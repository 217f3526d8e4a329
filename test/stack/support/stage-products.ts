import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { directoryDigest } from '../../../services/core/publish/manifest';
import type { ManifestEntry } from '../../../services/core/repositories/product.types';

/** Who owns what the test puts in the stage bind mount: the uid the worker runs as (it removes sources in move mode). */
export interface Owner {
  uid: number;
  gid: number;
}

function chownIfRoot(p: string, owner: Owner): void {
  if (process.getuid?.() === 0) fs.chownSync(p, owner.uid, owner.gid);
}

/** mkdir -p whose new directories belong to owner. */
function mkdirOwned(root: string, rel: string, owner: Owner): void {
  let current = root;
  for (const part of rel.split('/').filter(Boolean)) {
    current = path.join(current, part);
    if (!fs.existsSync(current)) {
      fs.mkdirSync(current, { mode: 0o755 });
      chownIfRoot(current, owner);
    }
  }
}

/** Writes a file of random bytes under root and returns its SHA-256. */
export function stageFile(root: string, rel: string, bytes: number, owner: Owner): string {
  mkdirOwned(root, path.posix.dirname(rel), owner);
  const data = crypto.randomBytes(bytes);
  const p = path.join(root, rel);
  fs.writeFileSync(p, data, { mode: 0o644 });
  chownIfRoot(p, owner);
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Writes a large file in 1 MiB chunks of random bytes (each chunk different) and returns its SHA-256. */
export async function stageLargeFile(root: string, rel: string, mib: number, owner: Owner): Promise<string> {
  mkdirOwned(root, path.posix.dirname(rel), owner);
  const p = path.join(root, rel);
  const hash = crypto.createHash('sha256');
  const fh = await fs.promises.open(p, 'w', 0o644);
  try {
    const seed = crypto.randomBytes(1024 * 1024);
    for (let i = 0; i < mib; i += 1) {
      // Cheap distinct chunks: the seed with the chunk number written over its first bytes.
      seed.writeUInt32BE(i, 0);
      hash.update(seed);
      await fh.write(seed);
    }
  } finally {
    await fh.close();
  }
  chownIfRoot(p, owner);
  return hash.digest('hex');
}

/** Writes a directory product (files with random bytes, one nested folder) and returns its Ferry checksum. */
export function stageDirectory(root: string, rel: string, files: Record<string, number>, owner: Owner): string {
  mkdirOwned(root, rel, owner);
  const entries: ManifestEntry[] = [];
  for (const [name, size] of Object.entries(files)) {
    mkdirOwned(root, path.posix.join(rel, path.posix.dirname(name)), owner);
    const sha256 = stageFile(root, path.posix.join(rel, name), size, owner);
    entries.push({ path: name, size, sha256 });
  }
  return directoryDigest(entries);
}

function sha256File(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(p)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Recomputes a published product's checksum from the bytes in the products bind mount. */
export async function publishedChecksum(root: string, rel: string): Promise<string> {
  const p = path.join(root, rel);
  const st = fs.lstatSync(p);
  if (st.isFile()) return sha256File(p);
  const entries: ManifestEntry[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, d.name);
      const relName = prefix ? `${prefix}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(full, relName);
      else entries.push({ path: relName, size: fs.statSync(full).size, sha256: await sha256File(full) });
    }
  };
  await walk(p, '');
  return directoryDigest(entries);
}

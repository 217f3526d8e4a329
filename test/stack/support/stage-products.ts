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

const FITS_BLOCK = 2880;

/**
 * A FITS primary header for `dataBytes` bytes of 8-bit data, one 2880-byte block: the Compose
 * stack validates its image type (config/product-types.yaml), so staged images must be real FITS.
 */
function fitsHeader(dataBytes: number): Buffer {
  const card = (key: string, value: string) => `${key.padEnd(8)}= ${value.padStart(20)}`.padEnd(80);
  const cards = [card('SIMPLE', 'T'), card('BITPIX', '8'), card('NAXIS', '1'), card('NAXIS1', String(dataBytes)), 'END'.padEnd(80)];
  return Buffer.from(cards.join('').padEnd(FITS_BLOCK), 'latin1');
}

/** Zero bytes that complete the data unit to whole 2880-byte blocks. */
function fitsPadding(dataBytes: number): Buffer {
  return Buffer.alloc((FITS_BLOCK - (dataBytes % FITS_BLOCK)) % FITS_BLOCK);
}

/** Writes a FITS image of `dataBytes` random data bytes under root and returns its SHA-256. */
export function stageFitsFile(root: string, rel: string, dataBytes: number, owner: Owner): string {
  return writeStaged(root, rel, Buffer.concat([fitsHeader(dataBytes), crypto.randomBytes(dataBytes), fitsPadding(dataBytes)]), owner);
}

function writeStaged(root: string, rel: string, data: Buffer, owner: Owner): string {
  mkdirOwned(root, path.posix.dirname(rel), owner);
  const p = path.join(root, rel);
  fs.writeFileSync(p, data, { mode: 0o644 });
  chownIfRoot(p, owner);
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Writes a large FITS image whose data is `mib` 1 MiB chunks of random bytes (each chunk different) and returns its SHA-256. */
export async function stageLargeFile(root: string, rel: string, mib: number, owner: Owner): Promise<string> {
  mkdirOwned(root, path.posix.dirname(rel), owner);
  const p = path.join(root, rel);
  const hash = crypto.createHash('sha256');
  const fh = await fs.promises.open(p, 'w', 0o644);
  const dataBytes = mib * 1024 * 1024;
  try {
    const header = fitsHeader(dataBytes);
    hash.update(header);
    await fh.write(header);
    const seed = crypto.randomBytes(1024 * 1024);
    for (let i = 0; i < mib; i += 1) {
      // Cheap distinct chunks: the seed with the chunk number written over its first bytes.
      seed.writeUInt32BE(i, 0);
      hash.update(seed);
      await fh.write(seed);
    }
    const padding = fitsPadding(dataBytes);
    hash.update(padding);
    await fh.write(padding);
  } finally {
    await fh.close();
  }
  chownIfRoot(p, owner);
  return hash.digest('hex');
}

/** The subtables the stack's `ms` type requires (config/product-types.yaml). */
const MS_SUBTABLES = ['ANTENNA', 'DATA_DESCRIPTION', 'FEED', 'FIELD', 'FLAG_CMD', 'HISTORY', 'OBSERVATION', 'POINTING', 'POLARIZATION', 'PROCESSOR', 'SPECTRAL_WINDOW', 'STATE'];

/** A table.dat that opens with casacore's AipsIO header (magic, length, version, "Table"), then random bytes. */
function casaTableDat(bytes: number): Buffer {
  const head = Buffer.alloc(17);
  head.writeUInt32BE(0xbebebebe, 0);
  head.writeUInt32BE(bytes, 4);
  head.writeUInt32BE(5, 8);
  head.write('Table', 12, 'latin1');
  return Buffer.concat([head, crypto.randomBytes(Math.max(0, bytes - head.length))]);
}

/**
 * Writes a Measurement Set shaped directory product (main table and every required subtable with
 * table.dat and table.info, plus `files` of random bytes, some nested) and returns its Ferry checksum.
 */
export function stageDirectory(root: string, rel: string, files: Record<string, number>, owner: Owner): string {
  mkdirOwned(root, rel, owner);
  const entries: ManifestEntry[] = [];
  const put = (name: string, data: Buffer) => {
    mkdirOwned(root, path.posix.join(rel, path.posix.dirname(name)), owner);
    entries.push({ path: name, size: data.length, sha256: writeStaged(root, path.posix.join(rel, name), data, owner) });
  };
  put('table.dat', casaTableDat(200_000));
  put('table.info', Buffer.from('Type = Measurement Set\nSubType = \n'));
  for (const sub of MS_SUBTABLES) {
    put(`${sub}/table.dat`, casaTableDat(4096));
    put(`${sub}/table.info`, Buffer.from('Type = \nSubType = \n'));
  }
  for (const [name, size] of Object.entries(files)) put(name, crypto.randomBytes(size));
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

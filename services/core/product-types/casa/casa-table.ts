import type { FileHandle } from 'node:fs/promises';
import type { CopySource } from '../../publish/copy-tree';
import { closeAll, openDirAt, openFileAt, walkDirs } from '../../publish/dir-handle';
import type { TreeEntry, TreeSnapshot } from '../../publish/scan-source';

/** casacore's AipsIO object header: magic 0xbebebebe, object length, then the type name "Table". */
const AIPSIO_MAGIC = 0xbebebebe;

/** A CASA table problem, for an `invalid` failure message. */
export class CasaTableError extends Error {
  override name = 'CasaTableError';
}

export interface CasaTableRules {
  table_type?: string;
  required_subtables: string[];
}

/** Reads up to `max` bytes of the scanned file `entry` below the open product directory, never following a link. */
async function readHead(product: FileHandle, entry: TreeEntry, max: number, label: string): Promise<Buffer> {
  const parts = entry.rel.split('/');
  const dir = await walkDirs(product, parts.slice(0, -1));
  try {
    const { fh } = await openFileAt(dir, parts[parts.length - 1]!, entry, `${label}/${entry.rel}`);
    try {
      const buf = Buffer.alloc(max);
      const { bytesRead } = await fh.read(buf, 0, max, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } finally {
    await dir.close();
  }
}

/** Checks one table directory (rel '' = the product itself) and returns its table.info type. */
async function checkTable(product: FileHandle, rel: string, files: Map<string, TreeEntry>, label: string): Promise<string> {
  const name = rel || 'the main table';
  const at = (f: string) => (rel ? `${rel}/${f}` : f);
  const dat = files.get(at('table.dat'));
  const info = files.get(at('table.info'));
  if (!dat) throw new CasaTableError(`${name}: table.dat is missing`);
  if (!info) throw new CasaTableError(`${name}: table.info is missing`);
  let head: Buffer;
  let infoText: Buffer;
  try {
    head = await readHead(product, dat, 16, label);
    infoText = await readHead(product, info, 4096, label);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code) throw err;
    throw new CasaTableError(`${name}: cannot read its table files (${code})`);
  }
  if (head.length < 16 || head.readUInt32BE(0) !== AIPSIO_MAGIC || head.readUInt32BE(8) !== 5 || head.toString('latin1', 12, 16) !== 'Tabl') {
    throw new CasaTableError(`${name}: table.dat is not a casacore table (no AipsIO Table header)`);
  }
  const first = infoText.toString('utf8').split('\n')[0] ?? '';
  const m = /^Type = (.*)$/.exec(first);
  if (!m) throw new CasaTableError(`${name}: table.info does not start with "Type = …"`);
  return m[1]!.trim();
}

/**
 * A CASA table directory (a Measurement Set, a calibration table): table.dat and table.info of
 * the main table and of every required subtable present, readable and in casacore's format, and
 * the main table of the expected type. Uses the snapshot the publish walked (so no entry is a
 * link) and opens each file through directory handles, checked to be the entry the walk saw.
 */
export async function validateCasaTable(source: CopySource, snap: TreeSnapshot, rules: CasaTableRules): Promise<{ table_type: string; subtables: string[] }> {
  const files = new Map(snap.entries.filter((e) => e.type === 'file').map((e) => [e.rel, e]));
  const dirs = new Set(snap.entries.filter((e) => e.type === 'directory').map((e) => e.rel));
  const product = await openDirAt(source.dir, source.name, snap.entries[0]!, source.label);
  try {
    const type = await checkTable(product, '', files, source.label);
    if (rules.table_type !== undefined && type !== rules.table_type) {
      throw new CasaTableError(`the main table is of type "${type}", expected "${rules.table_type}"`);
    }
    const missing = rules.required_subtables.filter((s) => !dirs.has(s));
    if (missing.length > 0) throw new CasaTableError(`required subtable${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`);
    for (const s of rules.required_subtables) await checkTable(product, s, files, source.label);
    const subtables = [...dirs].filter((d) => d !== '' && !d.includes('/') && files.has(`${d}/table.dat`)).sort();
    return { table_type: type, subtables };
  } finally {
    await closeAll([product]);
  }
}

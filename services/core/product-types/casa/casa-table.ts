import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { TreeSnapshot } from '../../publish/scan-source';

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

/** Reads up to `max` bytes of a regular file without following a link at the last component. */
async function readHead(file: string, max: number): Promise<Buffer> {
  const fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!(await fh.stat()).isFile()) throw new CasaTableError(`${path.basename(file)} is not a regular file`);
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Checks one table directory (rel '' = the product itself) and returns its table.info type. */
async function checkTable(root: string, rel: string, files: Set<string>): Promise<string> {
  const name = rel || 'the main table';
  const at = (f: string) => (rel ? `${rel}/${f}` : f);
  for (const f of ['table.dat', 'table.info']) {
    if (!files.has(at(f))) throw new CasaTableError(`${name}: ${f} is missing`);
  }
  let dat: Buffer;
  let info: Buffer;
  try {
    dat = await readHead(path.join(root, ...at('table.dat').split('/')), 16);
    info = await readHead(path.join(root, ...at('table.info').split('/')), 4096);
  } catch (err) {
    if (err instanceof CasaTableError) throw err;
    throw new CasaTableError(`${name}: cannot read its table files (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (dat.length < 16 || dat.readUInt32BE(0) !== AIPSIO_MAGIC || dat.readUInt32BE(8) !== 5 || dat.toString('latin1', 12, 16) !== 'Tabl') {
    throw new CasaTableError(`${name}: table.dat is not a casacore table (no AipsIO Table header)`);
  }
  const first = info.toString('utf8').split('\n')[0] ?? '';
  const m = /^Type = (.*)$/.exec(first);
  if (!m) throw new CasaTableError(`${name}: table.info does not start with "Type = …"`);
  return m[1]!.trim();
}

/**
 * A CASA table directory (a Measurement Set, a calibration table): table.dat and table.info of
 * the main table and of every required subtable present, readable and in casacore's format, and
 * the main table of the expected type. Uses the snapshot the publish walked with lstat (so no
 * entry is a link) and opens each file without following links.
 */
export async function validateCasaTable(root: string, snap: TreeSnapshot, rules: CasaTableRules): Promise<{ table_type: string; subtables: string[] }> {
  const files = new Set(snap.entries.filter((e) => e.type === 'file').map((e) => e.rel));
  const dirs = new Set(snap.entries.filter((e) => e.type === 'directory').map((e) => e.rel));
  const type = await checkTable(root, '', files);
  if (rules.table_type !== undefined && type !== rules.table_type) {
    throw new CasaTableError(`the main table is of type "${type}", expected "${rules.table_type}"`);
  }
  const missing = rules.required_subtables.filter((s) => !dirs.has(s));
  if (missing.length > 0) throw new CasaTableError(`required subtable${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`);
  for (const s of rules.required_subtables) await checkTable(root, s, files);
  const subtables = [...dirs].filter((d) => d !== '' && !d.includes('/') && files.has(`${d}/table.dat`)).sort();
  return { table_type: type, subtables };
}

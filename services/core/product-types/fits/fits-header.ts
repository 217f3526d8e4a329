/** FITS files are made of 2880-byte blocks; a header is 80-character cards ending with END. */
export const FITS_BLOCK = 2880;
const CARD = 80;
const VALID_BITPIX = new Set([8, 16, 32, 64, -32, -64]);

export type FitsValue = string | number | boolean | null;

/** One parsed header: its cards in order (first wins on a repeated keyword), its length in bytes. */
export interface FitsHeader {
  cards: Map<string, FitsValue>;
  /** Header bytes including the END card's block padding (a multiple of 2880). */
  headerBytes: number;
}

/** A header problem: what is wrong, for an `invalid` failure message. */
export class FitsFormatError extends Error {
  override name = 'FitsFormatError';
}

function parseValue(raw: string): FitsValue {
  const s = raw.trimStart();
  if (s.startsWith("'")) {
    // A string: '' inside is one quote; trailing blanks are not significant.
    let out = '';
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        return out.replace(/ +$/, '');
      }
      out += s[i];
    }
    throw new FitsFormatError('a string value has no closing quote');
  }
  const v = s.split('/')[0]!.trim();
  if (v === '') return null;
  if (v === 'T') return true;
  if (v === 'F') return false;
  if (/^[+-]?\d+$/.test(v)) return Number(v);
  const n = Number(v.replace(/[dD]/, 'E'));
  // Complex values and anything else are kept as text: Ferry never needs them as numbers.
  return Number.isFinite(n) ? n : v;
}

/**
 * Parses the header that starts at `buf[0]` and returns it, or undefined when `buf` holds no END
 * card yet (read more blocks). Throws FitsFormatError for bytes a FITS header may not hold.
 */
export function parseHeader(buf: Buffer): FitsHeader | undefined {
  const cards = new Map<string, FitsValue>();
  for (let off = 0; off + CARD <= buf.length; off += CARD) {
    for (let i = off; i < off + CARD; i++) {
      const c = buf[i]!;
      if (c < 0x20 || c > 0x7e) throw new FitsFormatError(`no END card before header card ${off / CARD + 1}, which holds a non-ASCII or control byte`);
    }
    const card = buf.toString('latin1', off, off + CARD);
    const key = card.slice(0, 8).trimEnd();
    if (key === 'END') {
      if (card.slice(3).trim() !== '') throw new FitsFormatError('the END card is not blank after END');
      return { cards, headerBytes: Math.ceil((off + CARD) / FITS_BLOCK) * FITS_BLOCK };
    }
    if (card.slice(8, 10) === '= ' && !cards.has(key)) {
      try {
        cards.set(key, parseValue(card.slice(10)));
      } catch (err) {
        throw new FitsFormatError(`${key}: ${(err as Error).message}`);
      }
    }
  }
  return undefined;
}

function integer(h: FitsHeader, key: string, min: number, max: number, where: string): number {
  const v = h.cards.get(key);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new FitsFormatError(`${where}: ${key} is ${v === undefined ? 'missing' : `not an integer in ${min}..${max}`}`);
  }
  return v;
}

/** The mandatory keywords in their mandatory order (FITS 4.0 §4.4.1) for the HDU at `index`. */
function checkOrder(buf: Buffer, naxis: number, index: number, where: string): void {
  const want = [index === 0 ? 'SIMPLE' : 'XTENSION', 'BITPIX', 'NAXIS'];
  for (let i = 1; i <= naxis; i++) want.push(`NAXIS${i}`);
  want.forEach((key, i) => {
    const got = buf.toString('latin1', i * CARD, i * CARD + 8).trimEnd();
    if (got !== key) throw new FitsFormatError(`${where}: card ${i + 1} is ${got || 'blank'}, expected ${key}`);
  });
}

/** The data bytes of an HDU with this header, before padding (FITS 4.0 §4.4.1, random groups §6). */
export function dataBytes(h: FitsHeader, index: number, headerBuf: Buffer): number {
  const where = index === 0 ? 'primary HDU' : `HDU ${index + 1}`;
  if (index === 0 && h.cards.get('SIMPLE') !== true) throw new FitsFormatError(`${where}: SIMPLE = T is missing (not a standard FITS file)`);
  if (index > 0 && typeof h.cards.get('XTENSION') !== 'string') throw new FitsFormatError(`${where}: XTENSION is missing`);
  const bitpix = h.cards.get('BITPIX');
  if (typeof bitpix !== 'number' || !VALID_BITPIX.has(bitpix)) throw new FitsFormatError(`${where}: BITPIX is ${bitpix ?? 'missing'}, not one of 8 16 32 64 -32 -64`);
  const naxis = integer(h, 'NAXIS', 0, 999, where);
  checkOrder(headerBuf, naxis, index, where);
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) axes.push(integer(h, `NAXIS${i}`, 0, Number.MAX_SAFE_INTEGER, where));
  const groups = h.cards.get('GROUPS') === true && naxis > 0 && axes[0] === 0;
  const extension = index > 0;
  const pcount = extension || groups ? integer(h, 'PCOUNT', 0, Number.MAX_SAFE_INTEGER, where) : 0;
  const gcount = extension || groups ? integer(h, 'GCOUNT', 0, Number.MAX_SAFE_INTEGER, where) : 1;
  if (naxis === 0 && !extension) return 0;
  const product = (groups ? axes.slice(1) : axes).reduce((a, b) => a * b, 1);
  const bytes = (Math.abs(bitpix) / 8) * gcount * (pcount + (naxis === 0 ? 0 : product));
  if (!Number.isSafeInteger(bytes)) throw new FitsFormatError(`${where}: the data size the header declares is too large`);
  return bytes;
}

/** Rounds a byte count up to whole FITS blocks. */
export function padded(bytes: number): number {
  return Math.ceil(bytes / FITS_BLOCK) * FITS_BLOCK;
}

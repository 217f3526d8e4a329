import type { FileHandle } from 'node:fs/promises';
import { dataBytes, FITS_BLOCK, FitsFormatError, padded, parseHeader, type FitsHeader } from './fits-header';

/** Longest header accepted: 10 MB of cards is far beyond any real product and bounds the memory a bad file can take. */
const MAX_HEADER_BLOCKS = 3600;
/** Most HDUs walked: a file of millions of empty extensions is refused rather than walked for minutes. */
const MAX_HDUS = 10_000;

/** Where one HDU lies in the file and what its header says. */
export interface FitsHdu {
  offset: number;
  header: FitsHeader;
  /** Data bytes before padding. */
  dataBytes: number;
  /** Offset just past this HDU's padded data. */
  end: number;
}

async function readAt(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Walks every HDU of a FITS file through an open handle, reading only headers, and checks the
 * structure: whole 2880-byte blocks, mandatory keywords in order, an END card, and a file size
 * exactly equal to what the headers declare (a truncated file or trailing bytes are refused, as
 * astropy refuses or warns about them). Throws FitsFormatError naming the first problem.
 */
export async function inspectFits(fh: FileHandle, size: number): Promise<FitsHdu[]> {
  if (size === 0) throw new FitsFormatError('the file is empty');
  if (size % FITS_BLOCK !== 0) throw new FitsFormatError(`the size ${size} is not a multiple of ${FITS_BLOCK} bytes`);
  const hdus: FitsHdu[] = [];
  let offset = 0;
  while (offset < size) {
    if (hdus.length >= MAX_HDUS) throw new FitsFormatError(`more than ${MAX_HDUS} HDUs`);
    const where = hdus.length === 0 ? 'primary HDU' : `HDU ${hdus.length + 1}`;
    let header: FitsHeader | undefined;
    let buf = Buffer.alloc(0);
    while (!header) {
      if (buf.length / FITS_BLOCK >= MAX_HEADER_BLOCKS) throw new FitsFormatError(`${where}: no END card in the first ${MAX_HEADER_BLOCKS} blocks`);
      const block = Buffer.alloc(FITS_BLOCK);
      const got = await readAt(fh, block, offset + buf.length);
      if (got < FITS_BLOCK) throw new FitsFormatError(`${where}: the header has no END card (the file ends inside it)`);
      // What follows the last HDU must be another extension: zero padding or junk makes the size
      // disagree with the headers (astropy warns "Unexpected extra padding" or fails to read it).
      if (hdus.length > 0 && buf.length === 0 && block.toString('latin1', 0, 8) !== 'XTENSION') {
        throw new FitsFormatError(`${size - offset} bytes after the last HDU are not a FITS extension (extra padding or trailing data)`);
      }
      buf = Buffer.concat([buf, block]);
      header = parseHeader(buf);
    }
    const bytes = dataBytes(header, hdus.length, buf);
    const end = offset + header.headerBytes + padded(bytes);
    if (end > size) throw new FitsFormatError(`${where}: the header declares ${bytes} data bytes but the file ends ${end - size} bytes early (truncated)`);
    hdus.push({ offset, header, dataBytes: bytes, end });
    offset = end;
  }
  return hdus;
}

import path from 'node:path';
import { PublishError } from '../errors/publish-error';
import type { CopySource } from '../publish/copy-tree';
import { openFileAt } from '../publish/dir-handle';
import type { TreeSnapshot } from '../publish/scan-source';
import { CasaTableError, validateCasaTable } from './casa/casa-table';
import { FitsChecksumObserver } from './fits/fits-checksum';
import { FitsFormatError } from './fits/fits-header';
import { inspectFits } from './fits/fits-inspect';
import { extractFitsMetadata } from './fits/fits-metadata';
import type { ProductTypeDefinition } from './product-type.schema';

/** What validation found: metadata to store with the product and, for checksummed FITS, the observer the copy feeds. */
export interface SourceValidation {
  /** Extracted metadata (FITS header fields, CASA table type), null for a type without validators. */
  extracted: Record<string, unknown> | null;
  /** Fed every byte the copy moves; its problems() turn into an `invalid` failure after the copy. */
  observer?: FitsChecksumObserver;
}

const invalid = (msg: string) => new PublishError('invalid', msg);

/**
 * Runs a type's checks on a staged source before anything is copied: kind, name pattern, size
 * bounds, then its validators. Reads through the handle the publish scanned the source with, each
 * file checked to be the entry the scan saw. Throws PublishError('invalid') naming what is wrong;
 * I/O errors propagate to be classified like any other.
 */
export async function validateSource(def: ProductTypeDefinition, source: CopySource, name: string, snap: TreeSnapshot): Promise<SourceValidation> {
  if (def.kind && def.kind !== snap.kind) throw invalid(`a ${def.kind} is expected, the source is a ${snap.kind}`);
  if (def.name_pattern && !new RegExp(def.name_pattern, 'u').test(name)) throw invalid(`the name ${name} does not match ${def.name_pattern}`);
  if (def.min_bytes !== undefined && snap.totalSize < def.min_bytes) throw invalid(`${snap.totalSize} bytes is below the type's minimum of ${def.min_bytes}`);
  if (def.max_bytes !== undefined && snap.totalSize > def.max_bytes) throw invalid(`${snap.totalSize} bytes is above the type's maximum of ${def.max_bytes}`);
  const { fits, casa_table: casa } = def.validators;
  if (fits) {
    const { fh } = await openFileAt(source.dir, source.name, snap.entries[0]!, source.label);
    try {
      const hdus = await inspectFits(fh, snap.totalSize);
      const meta = extractFitsMetadata(hdus);
      if (fits.require_checksums && !meta.checksummed) throw invalid('FITS: the primary HDU carries no CHECKSUM/DATASUM and the type requires them');
      const observer = fits.verify_checksums ? new FitsChecksumObserver(hdus) : undefined;
      return { extracted: { format: 'fits', hdus: hdus.length, ...meta }, observer: observer?.active ? observer : undefined };
    } catch (err) {
      if (err instanceof FitsFormatError) throw invalid(`FITS: ${err.message}`);
      throw err;
    } finally {
      await fh.close();
    }
  }
  if (casa) {
    try {
      return { extracted: { format: 'casa_table', ...(await validateCasaTable(source, snap, casa)) } };
    } catch (err) {
      if (err instanceof CasaTableError) throw invalid(`CASA table: ${err.message}`);
      throw err;
    }
  }
  return { extracted: null };
}

/** The base name a type's name_pattern is matched against: the destination's last component. */
export function productName(destinationPath: string): string {
  return path.posix.basename(destinationPath);
}

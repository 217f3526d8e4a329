import crypto from 'node:crypto';
import type { ManifestEntry } from '../repositories/product.types';

/** Manifest entries in their canonical order: by the UTF-8 bytes of the path. */
export function sortManifest(entries: readonly ManifestEntry[]): ManifestEntry[] {
  return [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8')));
}

/** One manifest line: `<sha256 hex> <size in bytes> <path relative to the product>\n`. */
export function manifestLine(e: ManifestEntry): string {
  return `${e.sha256} ${e.size} ${e.path}\n`;
}

/**
 * A directory product's checksum: SHA-256 of its manifest lines, sorted, concatenated (UTF-8).
 * Documented in docs/publishing.md so anyone can recompute it with standard tools.
 */
export function directoryDigest(entries: readonly ManifestEntry[]): string {
  const h = crypto.createHash('sha256');
  for (const e of sortManifest(entries)) h.update(manifestLine(e), 'utf8');
  return h.digest('hex');
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { directoryDigest } from '../../core/publish/manifest';
import type { Product } from '../http/api-types';
import { hashFile } from './hash-file';
import type { Throttle } from './throttle';

/** Kinds of mismatch between the archive and the registry. */
export type FindingKind = 'missing' | 'changed' | 'extra' | 'unverifiable';

/** One mismatch: path is relative to the product ('.' for the product itself). */
export interface Finding {
  kind: FindingKind;
  path: string;
  detail: string;
}

/** The audit of one published product. */
export interface ProductAudit {
  data_id: string;
  data_type: string;
  published_path: string | null;
  ok: boolean;
  files_checked: number;
  bytes_checked: number;
  findings: Finding[];
}

/**
 * Where a product lives under productsRoot. published_path is relative to PRODUCTS_ROOT; an
 * absolute one is accepted only inside productsRoot. Anything climbing out is refused.
 */
export function productLocation(productsRoot: string, product: Pick<Product, 'published_path'>): string | undefined {
  const p = product.published_path;
  if (!p) return undefined;
  const root = path.resolve(productsRoot);
  const full = path.isAbsolute(p) ? path.resolve(p) : path.resolve(root, p);
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return full;
}

async function lstatOrUndefined(p: string) {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Every non-directory entry under dir, as '/'-separated paths relative to dir. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

async function checkFile(
  file: string,
  rel: string,
  expected: { size: number | null; sha256: string | null },
  throttle: Throttle,
  result: ProductAudit,
): Promise<void> {
  const st = await lstatOrUndefined(file);
  if (!st) {
    result.findings.push({ kind: 'missing', path: rel, detail: 'file is missing' });
    return;
  }
  if (!st.isFile()) {
    result.findings.push({ kind: 'changed', path: rel, detail: 'no longer a regular file' });
    return;
  }
  const got = await hashFile(file, throttle);
  result.files_checked++;
  result.bytes_checked += got.size;
  if (expected.size !== null && got.size !== expected.size) {
    result.findings.push({ kind: 'changed', path: rel, detail: `size ${got.size} bytes, registry says ${expected.size}` });
  } else if (expected.sha256 !== null && got.sha256 !== expected.sha256) {
    result.findings.push({ kind: 'changed', path: rel, detail: `sha256 ${got.sha256}, registry says ${expected.sha256}` });
  }
}

/**
 * Without a manifest the files cannot be named one by one: recompute the directory digest over
 * what is there and compare it with checksum_sha256.
 */
async function checkDigestOnly(location: string, product: Product, throttle: Throttle, result: ProductAudit): Promise<void> {
  if (!product.checksum_sha256) {
    result.findings.push({ kind: 'unverifiable', path: '.', detail: 'the registry holds neither a manifest nor a checksum for this directory' });
    return;
  }
  const entries = [];
  for (const rel of await walk(location)) {
    const got = await hashFile(path.join(location, ...rel.split('/')), throttle);
    result.files_checked++;
    result.bytes_checked += got.size;
    entries.push({ path: rel, size: got.size, sha256: got.sha256 });
  }
  if (directoryDigest(entries) !== product.checksum_sha256) {
    result.findings.push({
      kind: 'changed',
      path: '.',
      detail: `directory digest differs (${entries.length} files found, registry says ${product.file_count ?? '?'}); the API gave no manifest to name the files`,
    });
  }
}

/**
 * Re-hashes one published product under productsRoot and compares it with the registry: a file
 * product against checksum_sha256 and size_bytes, a directory product against its manifest
 * (missing and changed files) and its directory listing (extra files).
 */
export async function auditProduct(product: Product, productsRoot: string, throttle: Throttle): Promise<ProductAudit> {
  const result: ProductAudit = {
    data_id: product.data_id,
    data_type: product.data_type,
    published_path: product.published_path,
    ok: true,
    files_checked: 0,
    bytes_checked: 0,
    findings: [],
  };
  const done = () => ({ ...result, ok: result.findings.length === 0 });
  const location = productLocation(productsRoot, product);
  if (!location) {
    result.findings.push({ kind: 'unverifiable', path: '.', detail: `published_path ${JSON.stringify(product.published_path)} is not inside the products root` });
    return done();
  }
  const st = await lstatOrUndefined(location);
  if (!st) {
    result.findings.push({ kind: 'missing', path: '.', detail: `${location} is missing` });
    return done();
  }
  if (product.kind === 'file') {
    await checkFile(location, '.', { size: product.size_bytes, sha256: product.checksum_sha256 }, throttle, result);
    return done();
  }
  if (!st.isDirectory()) {
    result.findings.push({ kind: 'changed', path: '.', detail: 'a directory product is no longer a directory' });
    return done();
  }
  const manifest = product.manifest;
  if (!manifest) {
    await checkDigestOnly(location, product, throttle, result);
    return done();
  }
  if (product.checksum_sha256 && directoryDigest(manifest) !== product.checksum_sha256) {
    result.findings.push({ kind: 'unverifiable', path: '.', detail: 'the stored manifest does not match the stored checksum' });
  }
  const listed = new Set(manifest.map((e) => e.path));
  for (const entry of manifest) {
    await checkFile(path.join(location, ...entry.path.split('/')), entry.path, { size: entry.size, sha256: entry.sha256 }, throttle, result);
  }
  for (const rel of await walk(location)) {
    if (!listed.has(rel)) result.findings.push({ kind: 'extra', path: rel, detail: 'file is not in the manifest' });
  }
  return done();
}

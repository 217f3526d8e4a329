import fs from 'node:fs/promises';
import path from 'node:path';
import { PublishError } from '../errors/publish-error';
import { TEMP_DIR_NAME } from './temp-area';

/** Names reserved at the top of both data roots. */
const RESERVED_TOP = new Set([TEMP_DIR_NAME, '.ferry-data-root']);

/** True when s holds a control character (manifest lines and logs must stay one line each). */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Where a product's bytes come from and where they go. */
export interface ProductPaths {
  /** Path relative to both roots, '/'-separated. */
  relative: string;
  source: string;
  final: string;
}

/**
 * Resolves a product's source under STAGE_ROOT and its final place under PRODUCTS_ROOT from its
 * destination_path (its path relative to STAGE_ROOT). Refuses anything that is absolute, empty,
 * climbs with `..`, names a reserved entry, or holds control characters (manifest lines are
 * newline-separated). Also refuses a source whose parent directory resolves, through a symlink,
 * outside STAGE_ROOT.
 */
export async function resolveProductPaths(roots: { stageRoot: string; productsRoot: string }, destinationPath: string): Promise<ProductPaths> {
  const rel = destinationPath;
  const parts = rel.split('/');
  const bad =
    rel.length === 0 ||
    path.isAbsolute(rel) ||
    hasControlChar(rel) ||
    rel.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    RESERVED_TOP.has(parts[0] ?? '');
  if (bad) throw new PublishError('path_invalid', `destination path ${JSON.stringify(rel)} is not a clean relative path`);
  const source = path.join(roots.stageRoot, ...parts);
  const final = path.join(roots.productsRoot, ...parts);
  let realStage: string;
  let realParent: string;
  try {
    realStage = await fs.realpath(roots.stageRoot);
    realParent = await fs.realpath(path.dirname(source));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PublishError('source_missing', `source ${source} does not exist`);
    throw err;
  }
  const within = path.relative(realStage, realParent);
  if (within.startsWith('..') || path.isAbsolute(within)) {
    throw new PublishError('path_invalid', `source ${source} resolves outside STAGE_ROOT`);
  }
  return { relative: rel, source, final };
}

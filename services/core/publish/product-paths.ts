import type { FileHandle } from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';
import { isNotDirectory, openRoot, walkDirs } from './dir-handle';
import { TEMP_DIR_NAME, type RootName } from './temp-area';

/** Names reserved at the top of both data roots. */
const RESERVED_TOP = new Set([TEMP_DIR_NAME, '.ferry-data-root', '.ferry-retracted']);

/** True when s holds a control character (manifest lines and logs must stay one line each). */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A product's place, relative to both roots: its source under STAGE_ROOT, its final place under PRODUCTS_ROOT. */
export interface ProductPaths {
  /** Path relative to both roots, '/'-separated. */
  relative: string;
  /** The directories between a root and the product. */
  parents: string[];
  /** The product's own name. */
  name: string;
}

/**
 * Checks a product's destination_path (its path relative to STAGE_ROOT, and to PRODUCTS_ROOT once
 * published). Refuses anything that is absolute, empty, climbs with `..`, names a reserved entry,
 * or holds control characters (manifest lines are newline-separated).
 */
export function productPaths(destinationPath: string): ProductPaths {
  const rel = destinationPath;
  const parts = rel.split('/');
  const bad =
    rel.length === 0 ||
    rel.startsWith('/') ||
    hasControlChar(rel) ||
    rel.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    RESERVED_TOP.has(parts[0] ?? '');
  if (bad) throw new PublishError('path_invalid', `destination path ${JSON.stringify(rel)} is not a clean relative path`);
  return { relative: rel, parents: parts.slice(0, -1), name: parts[parts.length - 1]! };
}

/** The handle of a product's parent directory inside a root; close() closes what was opened for it. */
export interface OpenedParent {
  parent: FileHandle;
  close(): Promise<void>;
}

/**
 * Parent directories below a root that their owner opens once and keeps open (a group's sources):
 * each walked from the root's handle like any other, one component at a time, never following a link.
 */
export interface SharedParents {
  /** The directory `parents` names below the root, opened on first use; closed by the owner, never by the caller. */
  parentOf(parents: readonly string[]): Promise<FileHandle>;
}

/**
 * Opens a root and walks to a product's parent directory, one component at a time, never following
 * a symlink. A missing component is `missingClass`; a symlink or a file in the way is `path_invalid`.
 * With `from` an open handle of the root, the walk starts there (a group opens it once for all its
 * members); with shared parents, the handle is theirs. Either way close() leaves what it was given open.
 */
export async function openProductParent(
  rootPath: string, rootName: RootName, paths: ProductPaths, missingClass: 'source_missing' | 'io_error' = 'source_missing',
  from?: FileHandle | SharedParents,
): Promise<OpenedParent> {
  if (from && 'parentOf' in from) {
    const parent = await from.parentOf(paths.parents).catch((err: unknown) => {
      throw parentWalkError(err, rootName, paths, missingClass);
    });
    return { parent, close: async () => undefined };
  }
  const own = from ? undefined : await openRoot(rootPath);
  try {
    const parent = await walkDirs((from ?? own)!, paths.parents);
    return { parent, close: async () => { await parent.close(); await own?.close(); } };
  } catch (err) {
    await own?.close();
    throw parentWalkError(err, rootName, paths, missingClass);
  }
}

/**
 * A failed walk to a product's parent (walkDirs), as the product's error: `missingClass` for a
 * missing component, path_invalid for a link or file in the way, anything else as it was.
 */
export function parentWalkError(err: unknown, rootName: RootName, paths: ProductPaths, missingClass: 'source_missing' | 'io_error'): unknown {
  const label = `${rootName}/${paths.relative}`;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new PublishError(missingClass, `${label} does not exist`, { cause: err });
  if (isNotDirectory(err)) return new PublishError('path_invalid', `a parent of ${label} is a symlink or not a directory`, { cause: err });
  return err;
}

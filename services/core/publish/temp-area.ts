import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from './fsync';

/** The reserved temporary area inside PRODUCTS_ROOT (same file system, so the final rename is atomic). */
export const TEMP_DIR_NAME = '.ferry-tmp';

/** PRODUCTS_ROOT/.ferry-tmp */
export function tempRoot(productsRoot: string): string {
  return path.join(productsRoot, TEMP_DIR_NAME);
}

/** PRODUCTS_ROOT/.ferry-tmp/<lease_token>: one lease's private copy. */
export function leaseTempDir(productsRoot: string, leaseToken: string): string {
  return path.join(tempRoot(productsRoot), leaseToken);
}

/**
 * Creates the lease's temp directory (and the area itself, durably, the first time). The lease
 * directory's own entry is not fsynced: it only ever holds a copy in progress, which a crash
 * discards anyway; what gets published is made durable where it is placed (placeNoClobber).
 */
export async function createLeaseTempDir(productsRoot: string, leaseToken: string): Promise<string> {
  const dir = leaseTempDir(productsRoot, leaseToken);
  try {
    await fs.mkdir(dir, { mode: 0o700 });
    return dir;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await fs.mkdir(tempRoot(productsRoot), { mode: 0o700 });
    await fsyncPath(productsRoot);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await fs.mkdir(dir, { mode: 0o700 });
  return dir;
}

/** Removes a lease's temp copy; a missing one is fine. Read-only directories inside are made writable first. */
export async function removeLeaseTempDir(productsRoot: string, leaseToken: string): Promise<void> {
  await removeTree(leaseTempDir(productsRoot, leaseToken));
}

/** rm -rf that also copes with directories whose preserved mode forbids deleting their entries. */
export async function removeTree(target: string): Promise<void> {
  try {
    await fs.rm(target, { recursive: true, force: true });
    return;
  } catch (err) {
    if (!['EACCES', 'EPERM', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  await makeWritable(target);
  await fs.rm(target, { recursive: true, force: true });
}

async function makeWritable(dir: string): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await fs.chmod(dir, 0o700);
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeWritable(path.join(dir, e.name));
  }
}

/** Names of every entry in the temp area (lease tokens, or strays). */
export async function listTempEntries(productsRoot: string): Promise<string[]> {
  try {
    return await fs.readdir(tempRoot(productsRoot));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

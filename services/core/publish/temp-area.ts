import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PublishError } from '../errors/publish-error';
import { at, handlePath, isNotDirectory, openDirAt, openRoot, removeTreeAt } from './dir-handle';
import { syncHandle } from './fsync';

/** The reserved scratch folder at the top of each data root (same file system, so renames are atomic). */
export const TEMP_DIR_NAME = '.ferry-tmp';

/** Which root a scratch folder belongs to, for messages (never the server path). */
export type RootName = 'STAGE_ROOT' | 'PRODUCTS_ROOT';

/** PRODUCTS_ROOT/.ferry-tmp, as a path (for tests and messages; work goes through openScratch). */
export function tempRoot(productsRoot: string): string {
  return path.join(productsRoot, TEMP_DIR_NAME);
}

/**
 * Opens a root's scratch folder through the root's handle, creating it (durably) when `create` is
 * set. Anything but a real directory in its place (a symlink planted by a stage writer, a file) is
 * refused: nothing is followed, nothing removed, and the attempt fails retryably (`io_error`) until
 * an operator removes it. Returns undefined when it does not exist and `create` is false.
 */
export async function openScratch(root: FileHandle, rootName: RootName, create: boolean): Promise<FileHandle | undefined> {
  if (create) {
    try {
      await fs.mkdir(at(root, TEMP_DIR_NAME), { mode: 0o700 });
      await syncHandle(root, rootName);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  try {
    return await openDirAt(root, TEMP_DIR_NAME);
  } catch (err) {
    if (!create && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (isNotDirectory(err)) {
      throw new PublishError('io_error', `${rootName}/${TEMP_DIR_NAME} is not a directory (a symlink or a file was put in its place): refused, nothing followed; an operator must remove it`, { cause: err });
    }
    throw err;
  }
}

/**
 * Creates the lease's private directory in PRODUCTS_ROOT/.ferry-tmp and returns its handle. Its own
 * entry is not fsynced: it only ever holds a copy in progress, which a crash discards anyway; what
 * gets published is made durable where it is placed (placeNoClobber).
 */
export async function createLeaseTempDir(productsRoot: FileHandle, leaseToken: string): Promise<{ scratch: FileHandle; lease: FileHandle }> {
  const scratch = (await openScratch(productsRoot, 'PRODUCTS_ROOT', true))!;
  try {
    return { scratch, lease: await createLeaseDirIn(scratch, leaseToken) };
  } catch (err) {
    await scratch.close();
    throw err;
  }
}

/** createLeaseTempDir inside a scratch folder already open (a group opens it once for all its members). */
export async function createLeaseDirIn(scratch: FileHandle, leaseToken: string): Promise<FileHandle> {
  await fs.mkdir(at(scratch, leaseToken), { mode: 0o700 });
  return openDirAt(scratch, leaseToken);
}

/**
 * Removes a lease's temp dir inside an open scratch folder. After a placed copy it is empty, and
 * one rmdir (which never follows a link) removes it; anything else is removed handle by handle.
 */
export async function removeLeaseDirIn(scratch: FileHandle, leaseToken: string): Promise<void> {
  await removeTreeAt(scratch, leaseToken, 'empty directory');
}

/** Removes a lease's temp copy (a missing one is fine), through handles only. */
export async function removeLeaseTempDir(productsRoot: string, leaseToken: string): Promise<void> {
  const root = await openRoot(productsRoot);
  try {
    const scratch = await openScratch(root, 'PRODUCTS_ROOT', false);
    if (!scratch) return;
    try {
      await removeLeaseDirIn(scratch, leaseToken);
    } finally {
      await scratch.close();
    }
  } finally {
    await root.close();
  }
}

/** Names of every entry in PRODUCTS_ROOT's scratch folder (lease tokens, or strays). */
export async function listTempEntries(productsRoot: string): Promise<string[]> {
  const root = await openRoot(productsRoot);
  try {
    const scratch = await openScratch(root, 'PRODUCTS_ROOT', false);
    if (!scratch) return [];
    try {
      return await fs.readdir(handlePath(scratch));
    } finally {
      await scratch.close();
    }
  } finally {
    await root.close();
  }
}

import fs, { type FileHandle } from 'node:fs/promises';
import { at, lstatAt, openRoot, removeTreeAt, sameIdentity, type Identity } from './dir-handle';
import { syncHandle } from './fsync';
import { openScratch } from './temp-area';

/** The trash name of a product's source inside STAGE_ROOT/.ferry-tmp. */
export function sourceTrashName(productId: number): string {
  return `removed-${productId}`;
}

/** A stage entry to remove: its name inside a verified directory handle. */
export interface StageEntry {
  parent: FileHandle;
  name: string;
  /** Its path relative to STAGE_ROOT, for messages (never the server path). */
  relative: string;
  /** When set, only the entry scanned as this (dev, ino) is removed; otherwise whatever is at the name. */
  identity?: Identity;
}

/**
 * Removes a stage entry through handles only. STAGE_ROOT/.ferry-tmp is opened (created if missing)
 * through the root's handle without following a symlink; anything but a directory in its place is
 * refused, nothing followed or removed (openScratch). The entry is renamed into it as `trashName`
 * (one atomic step, so the stage never shows half a product), its parent fsynced, and the trash
 * deleted handle by handle (a symlink met is unlinked, never followed). A trash of that name left
 * by a run that crashed is deleted too, so running again finishes the job; `entry` undefined
 * deletes only that.
 */
export async function trashStageEntry(stageRoot: string, trashName: string, entry: StageEntry | undefined): Promise<void> {
  const root = await openRoot(stageRoot);
  try {
    const scratch = (await openScratch(root, 'STAGE_ROOT', true))!;
    try {
      const st = entry ? await lstatAt(entry.parent, entry.name) : undefined;
      if (entry && st && (!entry.identity || sameIdentity(st, entry.identity))) {
        await removeTreeAt(scratch, trashName);
        await fs.rename(at(entry.parent, entry.name), at(scratch, trashName));
        await syncHandle(entry.parent, `STAGE_ROOT/${entry.relative}`);
      }
      // Anything else now at the entry's name is not the one to remove: left alone.
      await removeTreeAt(scratch, trashName);
    } finally {
      await scratch.close();
    }
  } finally {
    await root.close();
  }
}

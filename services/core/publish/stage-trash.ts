import fs, { type FileHandle } from 'node:fs/promises';
import { at, lstatAt, openRoot, removeTreeAt, sameIdentity, type Identity } from './dir-handle';
import { syncDirsOnce } from './fsync';
import { mapLimit } from './map-limit';
import { openScratch } from './temp-area';

/** Entries renamed or deleted at once: each step is a short metadata operation. */
const TRASH_IN_FLIGHT = 8;

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
  const [result] = await trashStageEntries(stageRoot, [{ trashName, entry }]);
  if (result) throw result;
}

/**
 * trashStageEntry for many entries (a group's sources) with one root and scratch handle: each is
 * renamed into the trash as its own step, every distinct parent is then fsynced once, and only
 * then is each trash deleted. Returns each item's error (undefined when removed), in order; an
 * error opening the trash fails them all.
 */
export async function trashStageEntries(
  stageRoot: string, items: ReadonlyArray<{ trashName: string; entry: StageEntry | undefined }>,
): Promise<Array<unknown>> {
  const errors: unknown[] = items.map(() => undefined);
  if (items.length === 0) return errors;
  const root = await openRoot(stageRoot);
  try {
    const scratch = (await openScratch(root, 'STAGE_ROOT', true))!;
    try {
      const moved: Array<{ fh: FileHandle; label: string; item: number }> = [];
      const files = new Set<number>();
      await forEach(items, errors, async ({ trashName, entry }, i) => {
        const st = entry ? await lstatAt(entry.parent, entry.name) : undefined;
        if (!entry || !st || (entry.identity && !sameIdentity(st, entry.identity))) return;
        await renameReplacingTrash(at(entry.parent, entry.name), scratch, trashName);
        moved.push({ fh: entry.parent, label: `STAGE_ROOT/${entry.relative}`, item: i });
        if (!st.isDirectory()) files.add(i);
      });
      // Each parent's new listing made durable once (each product walked to it with a handle of
      // its own), before any trash is deleted.
      const synced = await syncDirsOnce(moved, TRASH_IN_FLIGHT);
      moved.forEach(({ item }, j) => {
        errors[item] ??= synced[j];
      });
      // Anything else now at an entry's name is not the one to remove: left alone.
      // A trash that was a file when it was renamed in goes with one unlink; anything else (or a
      // directory swapped in before the rename) is removed handle by handle.
      await forEach(items, errors, ({ trashName }, i) => removeTreeAt(scratch, trashName, files.has(i) ? 'file' : undefined));
    } finally {
      await scratch.close();
    }
  } catch (err) {
    return errors.map((e) => e ?? err);
  } finally {
    await root.close();
  }
  return errors;
}

/** Errors of a rename onto an existing entry it cannot replace (a directory not empty, or of the other kind). */
const IN_THE_WAY = new Set(['EEXIST', 'ENOTEMPTY', 'EISDIR', 'ENOTDIR']);

/**
 * Renames `from` into the trash as `trashName`. A trash of that name left by a crashed run is
 * usually not there: the rename is tried first (replacing a leftover file or empty directory
 * outright, never following a link), and only a leftover in its way is deleted before a second try.
 */
async function renameReplacingTrash(from: string, scratch: FileHandle, trashName: string): Promise<void> {
  try {
    await fs.rename(from, at(scratch, trashName));
  } catch (err) {
    if (!IN_THE_WAY.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    await removeTreeAt(scratch, trashName);
    await fs.rename(from, at(scratch, trashName));
  }
}

/** Runs step for each item not yet failed, a few at a time, keeping each one's error. */
async function forEach<T>(items: readonly T[], errors: unknown[], step: (item: T, i: number) => Promise<void>): Promise<void> {
  await mapLimit(items, TRASH_IN_FLIGHT, async (item, i) => {
    if (errors[i] === undefined) await step(item, i).catch((err: unknown) => { errors[i] = err; });
  });
}

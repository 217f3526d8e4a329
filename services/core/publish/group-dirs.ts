import type { FileHandle } from 'node:fs/promises';
import { closeAll, openRoot, walkDirs } from './dir-handle';
import { availableBytes, checkFreeSpace } from './free-space';
import { ensureParentDirs } from './place-product';
import type { SharedParents } from './product-paths';
import { createLeaseDirIn, openScratch, removeLeaseDirIn } from './temp-area';

/**
 * The directories a group's members share, each opened once for the whole group: PRODUCTS_ROOT,
 * its scratch folder, each distinct final parent (found, or created when placing), and STAGE_ROOT
 * itself. A group's products mostly sit in one or a few directories, and opening, stat-ing and
 * closing the same ones for every member cost more of the worker than copying 64 KiB does. Each
 * handle is opened exactly as the single path opens it (through its parent's handle, never
 * following a link), so sharing changes how often, not how. Below STAGE_ROOT, each distinct source
 * directory is walked to once before the copies (`sources`) and once more after all of them, when
 * the group verifies its members' sources (verifyUnchanged): a directory swapped, moved away or
 * made a link meanwhile fails every member in it, as each member's own walks would have.
 * PRODUCTS_ROOT's free space is read once too, and each member's copy reserves its size from it,
 * so the group's copies together leave the margin.
 *
 * The members' copies share one temp dir, named after the first member's lease (a new directory
 * costs the file system an inode, as much as a small copy's own file). The group removes it, with
 * any copy a failed member left there, before it commits, while every lease is still held. Should
 * the first member's lease be taken over meanwhile, the new holder removes the directory as the
 * old lease's leftovers: the members not yet placed then fail to place and are retried, and no
 * placed product is touched (placing links the copy under its final name).
 */
export class GroupDirs {
  private readonly existing = new Map<string, Promise<FileHandle | undefined>>();
  private readonly placed = new Map<string, Promise<FileHandle>>();
  private readonly sourceDirs = new Map<string, Promise<FileHandle>>();
  /** The members' source directories below STAGE_ROOT, each walked to once per group. */
  readonly sources: SharedParents = { parentOf: (parents) => this.once(this.sourceDirs, parents, () => walkDirs(this.stage, parents)) };
  private free?: Promise<number>;
  private reserved = 0;

  private constructor(
    private readonly productsRoot: string, private readonly tempToken: string,
    readonly stage: FileHandle, readonly products: FileHandle, readonly scratch: FileHandle, readonly temp: FileHandle,
  ) {}

  /**
   * Opens STAGE_ROOT, PRODUCTS_ROOT and PRODUCTS_ROOT's scratch folder (created if missing), and
   * creates the group's temp dir there, named `tempToken` (the first member's lease token).
   */
  static async open(roots: { stageRoot: string; productsRoot: string }, tempToken: string): Promise<GroupDirs> {
    const opened: FileHandle[] = [];
    const keep = (fh: FileHandle) => {
      opened.push(fh);
      return fh;
    };
    try {
      const stage = keep(await openRoot(roots.stageRoot));
      const products = keep(await openRoot(roots.productsRoot));
      const scratch = keep((await openScratch(products, 'PRODUCTS_ROOT', true))!);
      return new GroupDirs(roots.productsRoot, tempToken, stage, products, scratch, await createLeaseDirIn(scratch, tempToken));
    } catch (err) {
      await closeAll(opened);
      throw err;
    }
  }

  /**
   * ensureFreeSpace for one member's copy of `size` bytes: PRODUCTS_ROOT's free space is read once
   * per group, less what the members before it reserved; refused as no_space like a single copy.
   */
  async reserveSpace(size: number, margin: number): Promise<void> {
    this.free ??= availableBytes(this.productsRoot);
    const free = await this.free;
    checkFreeSpace(free - this.reserved, this.productsRoot, size, margin);
    this.reserved += size;
  }

  /** A product's final parent as it is now (undefined when missing), opened once per group; `open` walks to it. */
  existingParent(parents: readonly string[], open: () => Promise<FileHandle | undefined>): Promise<FileHandle | undefined> {
    return this.once(this.existing, parents, open);
  }

  /** A product's final parent, created where missing (ensureParentDirs), opened once per group. */
  placeParent(parents: readonly string[]): Promise<FileHandle> {
    return this.once(this.placed, parents, () => ensureParentDirs(this.products, parents));
  }

  /** Removes the group's temp dir, with any copy still in it (placed copies are already linked under their final names). */
  removeTemp(): Promise<void> {
    return removeLeaseDirIn(this.scratch, this.tempToken);
  }

  /** Closes every handle the group opened, once each. */
  async close(): Promise<void> {
    const opened = await Promise.all([...this.existing.values(), ...this.placed.values(), ...this.sourceDirs.values()].map((p) => p.catch(() => undefined)));
    await closeAll([...opened, this.temp, this.scratch, this.products, this.stage]);
  }

  private once<T>(cache: Map<string, Promise<T>>, parents: readonly string[], open: () => Promise<T>): Promise<T> {
    // Components never hold a '/', so joining them names the directory uniquely.
    const key = parents.join('/');
    let p = cache.get(key);
    if (!p) {
      p = open();
      cache.set(key, p);
    }
    return p;
  }
}

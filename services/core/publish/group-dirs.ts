import type { FileHandle } from 'node:fs/promises';
import { closeAll, openRoot } from './dir-handle';
import { ensureParentDirs } from './place-product';
import { openScratch } from './temp-area';

/**
 * The PRODUCTS_ROOT directories a group's members share, each opened once for the whole group:
 * the root, its scratch folder, and each distinct final parent (found, or created when placing).
 * A group's products mostly sit in one or a few directories, and opening, stat-ing and closing
 * the same ones for every member cost more of the worker than copying 64 KiB does. Each handle is
 * opened exactly as the single path opens it (through its parent's handle, never following a
 * link), so sharing changes how often, not how. The stage side is not shared: every member walks
 * to its own source from STAGE_ROOT, before and after its copy, as on the single path.
 */
export class GroupDirs {
  private readonly existing = new Map<string, Promise<FileHandle | undefined>>();
  private readonly placed = new Map<string, Promise<FileHandle>>();

  private constructor(readonly products: FileHandle, readonly scratch: FileHandle) {}

  /** Opens PRODUCTS_ROOT and its scratch folder (created if missing). */
  static async open(productsRoot: string): Promise<GroupDirs> {
    const products = await openRoot(productsRoot);
    try {
      return new GroupDirs(products, (await openScratch(products, 'PRODUCTS_ROOT', true))!);
    } catch (err) {
      await products.close();
      throw err;
    }
  }

  /** A product's final parent as it is now (undefined when missing), opened once per group; `open` walks to it. */
  existingParent(parents: readonly string[], open: () => Promise<FileHandle | undefined>): Promise<FileHandle | undefined> {
    return this.once(this.existing, parents, open);
  }

  /** A product's final parent, created where missing (ensureParentDirs), opened once per group. */
  placeParent(parents: readonly string[]): Promise<FileHandle> {
    return this.once(this.placed, parents, () => ensureParentDirs(this.products, parents));
  }

  /** Closes every handle the group opened, once each. */
  async close(): Promise<void> {
    const opened = await Promise.all([...this.existing.values(), ...this.placed.values()].map((p) => p.catch(() => undefined)));
    await closeAll([...opened, this.scratch, this.products]);
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

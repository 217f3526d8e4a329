import type { Queryable } from '../../db/pool';
import { findProductsByDataIds } from '../../repositories/product.repository';
import type { ProductRow } from '../../repositories/product.types';

interface Asking {
  resolve: (row: ProductRow | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Looks up the existing product of each single registration, as RegistrationWriter writes them:
 * one query at a time per process, and the look-ups asked for while it runs go together in the
 * next one (up to `max` data_ids). A lone look-up is sent at once. Every registration begins with
 * this look-up, and on a busy api a query of its own for each cost PostgreSQL and the api a
 * round trip per product (docs/performance.md, ninth pass).
 *
 * A look-up is never answered from a query that began before it was asked for, so it sees at
 * least what a query of its own would have seen. When a query fails, every look-up in it fails
 * with that error.
 */
export class DataIdLookup {
  private readonly waiting = new Map<string, Asking[]>();
  private querying = false;

  constructor(private readonly db: Queryable, private readonly max: number) {}

  /** The product registered under dataId, or undefined. */
  find(dataId: string): Promise<ProductRow | undefined> {
    return new Promise((resolve, reject) => {
      const asking = this.waiting.get(dataId);
      if (asking) asking.push({ resolve, reject });
      else this.waiting.set(dataId, [{ resolve, reject }]);
      if (!this.querying) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.querying = true;
    try {
      while (this.waiting.size > 0) {
        const taken = [...this.waiting.entries()].slice(0, this.max);
        for (const [dataId] of taken) this.waiting.delete(dataId);
        try {
          const rows = new Map((await findProductsByDataIds(this.db, taken.map(([dataId]) => dataId))).map((r) => [r.data_id, r]));
          for (const [dataId, asking] of taken) for (const a of asking) a.resolve(rows.get(dataId));
        } catch (err) {
          for (const [, asking] of taken) for (const a of asking) a.reject(err);
        }
      }
    } finally {
      this.querying = false;
    }
  }
}

import type { Queryable } from '../../db/pool';
import { findProductsByDataIds } from '../../repositories/product.repository';
import type { ProductRow } from '../../repositories/product.types';
import { BatchesInTurn } from './batches-in-turn';

interface Asking {
  dataId: string;
  resolve: (row: ProductRow | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Looks up the existing product of each single registration, as RegistrationWriter writes them
 * (BatchesInTurn): one query at a time per process, and the look-ups asked for while it runs go
 * together in the next one (up to `max` look-ups, each data_id queried once). A lone look-up is
 * sent at once. Every registration begins with this look-up, and on a busy api a query of its own
 * for each cost PostgreSQL and the api a round trip per product (docs/performance.md, ninth pass).
 *
 * A look-up is never answered from a query that began before it was asked for, so it sees at
 * least what a query of its own would have seen. When a query fails, every look-up in it fails
 * with that error.
 */
export class DataIdLookup {
  private readonly turns: BatchesInTurn<Asking>;

  constructor(private readonly db: Queryable, max: number) {
    this.turns = new BatchesInTurn(max, (batch) => this.query(batch));
  }

  /** The product registered under dataId, or undefined. */
  find(dataId: string): Promise<ProductRow | undefined> {
    return new Promise((resolve, reject) => this.turns.push({ dataId, resolve, reject }));
  }

  private async query(batch: Asking[]): Promise<void> {
    try {
      const found = await findProductsByDataIds(this.db, [...new Set(batch.map((a) => a.dataId))]);
      const rows = new Map(found.map((r) => [r.data_id, r]));
      for (const a of batch) a.resolve(rows.get(a.dataId));
    } catch (err) {
      for (const a of batch) a.reject(err);
    }
  }
}

import type { PoolClient } from 'pg';
import { AppError, ConflictError } from '../../errors';
import {
  destinationAncestors, findRegistrationObstacles, lockBulkStateChanges, lockDestinations, type NewProduct,
} from '../../repositories/product.repository';
import { recordRegistered } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';
import { checkLineage } from './check-lineage';
import {
  destinationConflict, insertRegistration, sameOrConflict, type ReadyRegistration, type RegisterProductInput, type RegisterProductResult,
} from './register-product';

/** One product's outcome in a batch: registered (or found identical), or refused with the error single registration would answer. */
export type BatchOutcome = { outcome: 'registered'; result: RegisterProductResult } | { outcome: 'refused'; error: AppError };

/** A batch's product as the checks outside the transaction left it. */
export interface CheckedItem {
  input: RegisterProductInput;
  /** Answered or refused already, or ready to write. */
  prepared: BatchOutcome | ReadyRegistration;
  /**
   * False when it was refused before its data_id was looked at (checkRegistrationInput): a product
   * of the same data_id registered earlier in the batch does not change that answer, as it does
   * every other.
   */
  afterDataIdCheck: boolean;
}

/** Only the typed refusals of a registration belong to one product; anything else (the database gone, a bug) fails the whole batch. */
export function refusedOrThrow(err: unknown): BatchOutcome {
  if (err instanceof AppError) return { outcome: 'refused', error: err };
  throw err;
}

const registered = (result: RegisterProductResult): BatchOutcome => ({ outcome: 'registered', result });
const isReady = (p: CheckedItem['prepared']): p is ReadyRegistration => p.outcome === 'ready';
/** A product with lineage or a correction is checked against rows of its own: it goes through the single registration's steps. */
const isPlain = (p: ReadyRegistration) => (p.input.derived_from ?? []).length === 0 && p.input.supersedes === undefined;

/** The 409 insertRegistration gives when its insert meets something the checks did not see. */
function takenConcurrently(dataId: string): ConflictError {
  // The locks make this impossible short of a writer that bypasses them.
  return new ConflictError('destination_conflict', `data_id ${dataId} or its destination was taken concurrently: retry`);
}

/** The destinations a batch has registered so far, to find one equal to, containing or inside a new one. */
class BatchDestinations {
  private readonly exact = new Map<string, Pick<ProductRow, 'data_id' | 'destination_path'>>();
  private readonly containing = new Map<string, Pick<ProductRow, 'data_id' | 'destination_path'>>();

  overlapping(dest: string): Pick<ProductRow, 'data_id' | 'destination_path'> | undefined {
    for (const a of destinationAncestors(dest)) {
      const found = this.exact.get(a);
      if (found) return found;
    }
    return this.containing.get(dest);
  }

  add(p: Pick<ProductRow, 'data_id' | 'destination_path'>): void {
    this.exact.set(p.destination_path, p);
    for (const a of destinationAncestors(p.destination_path).slice(0, -1)) if (!this.containing.has(a)) this.containing.set(a, p);
  }
}

/**
 * The writing half of a batch, inside the caller's transaction, in a few statements whatever its
 * size: every product's destination and data_id locks in one statement, what stands in their way
 * in one more, then the new products and their `registered` events in one multi-row insert. Each
 * product is answered as single registrations made one after another in the batch's order would
 * answer it: checked against the registry and against the products listed before it — the first
 * of two with one data_id is registered and the second is the identical product (200) or a
 * conflict (409); of two with the same or nested destinations the first wins. A product with
 * lineage or a correction is written alone through insertRegistration at its place in the order
 * (the plain products before it are written first), since its checks read rows.
 */
export async function insertRegistrations(
  deps: Pick<RegistryDeps, 'config' | 'pool'>, tx: PoolClient, items: readonly CheckedItem[],
): Promise<BatchOutcome[]> {
  const ready = items.flatMap(({ prepared }, index) => (isReady(prepared) ? [{ index, p: prepared }] : []));
  const keys = ready.map(({ p }) => ({ dest: p.source.relativePath, dataId: p.input.data_id }));
  // The insert changes many products at once: the batch takes its turn with group claims and commits (lockBulkStateChanges).
  if (ready.length > 1) await lockBulkStateChanges(tx);
  if (ready.length > 0) await lockDestinations(tx, keys);
  const obstacles = ready.length > 0 ? await findRegistrationObstacles(tx, keys) : { byDataId: new Map<string, ProductRow>(), overlapping: new Map<number, ProductRow>() };
  const inTheWay = new Map(ready.map(({ index }, k) => [index, obstacles.overlapping.get(k)]));

  const out = new Array<BatchOutcome>(items.length);
  /** Where each data_id the batch registers was listed, and (below) each registered product's row once written. */
  const registeredAt = new Map<string, number>();
  const rows = new Map<number, ProductRow>();
  const destinations = new BatchDestinations();
  /** Answers that compare with a row: given once every row is written. */
  const compare: Array<{ index: number; row: () => ProductRow | undefined }> = [];
  let pending: Array<{ index: number; product: NewProduct }> = [];

  const flush = async () => {
    if (pending.length === 0) return;
    const inserted = await recordRegistered(tx, pending.map((x) => x.product));
    pending.forEach(({ index, product }, k) => {
      const row = inserted[k];
      if (row) {
        rows.set(index, row);
        out[index] = registered({ product: row, created: true });
      } else {
        out[index] = { outcome: 'refused', error: takenConcurrently(product.data_id) };
      }
    });
    pending = [];
  };

  for (const [index, { input, prepared, afterDataIdCheck }] of items.entries()) {
    const first = afterDataIdCheck ? registeredAt.get(input.data_id) : undefined;
    if (first !== undefined) {
      // Registered earlier in this batch: single registration would find that product first.
      compare.push({ index, row: () => rows.get(first) });
      continue;
    }
    if (!isReady(prepared)) {
      out[index] = prepared;
      continue;
    }
    if (!isPlain(prepared)) {
      await flush();
      out[index] = await insertRegistration(deps, tx, prepared).then(registered, refusedOrThrow);
      const o = out[index];
      if (o.outcome === 'registered' && o.result.created) {
        rows.set(index, o.result.product);
        registeredAt.set(input.data_id, index);
        destinations.add(o.result.product);
      }
      continue;
    }
    // The steps of insertRegistration, in its order, on what the one read found.
    const dest = prepared.source.relativePath;
    try {
      await checkLineage(tx, prepared.def, input.data_id, []); // no inputs: only the type's minimum, no query
      const raced = obstacles.byDataId.get(input.data_id);
      if (raced) {
        compare.push({ index, row: () => raced });
        continue;
      }
      const other = inTheWay.get(index) ?? destinations.overlapping(dest);
      if (other) throw destinationConflict(dest, other);
    } catch (err) {
      out[index] = refusedOrThrow(err);
      continue;
    }
    pending.push({ index, product: {
      data_id: input.data_id, data_type: input.data_type, stage_path: dest, destination_path: dest, kind: prepared.source.kind,
      size_bytes: prepared.source.sizeBytes, file_count: prepared.source.fileCount, expected_sha256: input.expected_sha256 ?? null,
      metadata: input.metadata ?? {}, due: prepared.autoPublish, supersedes: null,
    } });
    registeredAt.set(input.data_id, index);
    destinations.add({ data_id: input.data_id, destination_path: dest });
  }
  await flush();
  for (const { index, row } of compare) {
    const existing = row();
    const { input } = items[index]!;
    out[index] = existing
      ? await sameOrConflict(deps, tx, existing, input).then(registered, refusedOrThrow)
      : { outcome: 'refused', error: takenConcurrently(input.data_id) };
  }
  return out;
}

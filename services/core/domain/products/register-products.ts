import { withTransaction } from '../../db/transaction';
import { AppError } from '../../errors';
import { mapLimit } from '../../publish/map-limit';
import { findProductsByDataIds, lockBulkStateChanges } from '../../repositories/product.repository';
import type { RegistryDeps } from '../registry-deps';
import { enqueueManySafely } from './enqueue-safely';
import { insertRegistration, prepareRegistration, type PreparedRegistration, type RegisterProductInput, type RegisterProductResult } from './register-product';

/** One product's outcome in a batch: registered (or found identical), or refused with the error single registration would answer. */
export type BatchOutcome = { outcome: 'registered'; result: RegisterProductResult } | { outcome: 'refused'; error: AppError };

/** Stage paths resolved at once: the walks are file-system bound, and a few in flight hide their latency. */
const PREPARE_CONCURRENCY = 8;
/** A deadlock against another batch aborts the whole transaction: it is run again, this many times in all. */
const DEADLOCK_ATTEMPTS = 3;
const DEADLOCK_DETECTED = '40P01';

function refusedOrThrow(err: unknown): BatchOutcome {
  // Only the typed refusals of a registration belong to one product; anything else (the database
  // gone, a bug) fails the whole batch, and the transaction writes nothing.
  if (err instanceof AppError) return { outcome: 'refused', error: err };
  throw err;
}

/**
 * Registers many staged products in ONE transaction, each through the same two steps as a single
 * registration (prepareRegistration, insertRegistration), and answers each on its own. A refused
 * product writes nothing — every refusal is raised before its row is written — so it fails alone
 * and the others commit; a database failure rolls back the whole batch. The products created are
 * enqueued after the commit in one round trip.
 */
export async function registerProducts(deps: RegistryDeps, inputs: readonly RegisterProductInput[]): Promise<BatchOutcome[]> {
  const existing = new Map((await findProductsByDataIds(deps.pool, [...new Set(inputs.map((i) => i.data_id))])).map((r) => [r.data_id, r]));
  const outcomes = new Array<BatchOutcome>(inputs.length);
  const ready: Array<{ index: number; prepared: Extract<PreparedRegistration, { outcome: 'ready' }> }> = [];
  await mapLimit(inputs, PREPARE_CONCURRENCY, async (input, index) => {
    try {
      const prepared = await prepareRegistration(deps, input, existing.get(input.data_id));
      if (prepared.outcome === 'answered') outcomes[index] = { outcome: 'registered', result: prepared.result };
      else ready.push({ index, prepared });
    } catch (err) {
      outcomes[index] = refusedOrThrow(err);
    }
  });
  // One order for every batch (by destination, then data_id): two batches naming the same
  // destinations take their locks in the same order, which keeps deadlocks rare. Within a batch,
  // of two products that collide the one listed first wins.
  ready.sort((a, b) => compare(a.prepared.source.relativePath, b.prepared.source.relativePath)
    || compare(a.prepared.input.data_id, b.prepared.input.data_id) || a.index - b.index);
  for (let attempt = 1; ; attempt++) {
    try {
      const written = await withTransaction(deps.pool, async (tx) => {
        if (ready.length > 1) await lockBulkStateChanges(tx);
        const inTx = new Map<number, BatchOutcome>();
        for (const { index, prepared } of ready) {
          inTx.set(index, await insertRegistration(deps, tx, prepared).then(
            (result): BatchOutcome => ({ outcome: 'registered', result }),
            refusedOrThrow,
          ));
        }
        return inTx;
      });
      for (const [index, outcome] of written) outcomes[index] = outcome;
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= DEADLOCK_ATTEMPTS) throw err;
    }
  }
  const toEnqueue = ready
    .filter(({ index, prepared }) => prepared.autoPublish && isCreated(outcomes[index]!))
    .map(({ prepared }) => prepared.input.data_id);
  await enqueueManySafely(deps, toEnqueue);
  return outcomes;
}

function isCreated(o: BatchOutcome): boolean {
  return o.outcome === 'registered' && o.result.created;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

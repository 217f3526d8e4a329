import { withTransaction } from '../../db/transaction';
import { mapLimit } from '../../publish/map-limit';
import { findProductsByDataIds } from '../../repositories/product.repository';
import type { RegistryDeps } from '../registry-deps';
import { enqueueManySafely } from './enqueue-safely';
import { productsToEnqueue } from './publish-dispatch';
import { insertRegistrations, refusedOrThrow, type BatchOutcome, type CheckedItem } from './insert-registrations';
import { checkRegistrationInput, prepareCheckedRegistration, type RegisterProductInput } from './register-product';

export type { BatchOutcome } from './insert-registrations';

/** Stage paths resolved at once: the walks are file-system bound, and a few in flight hide their latency. */
const PREPARE_CONCURRENCY = 8;
/** A deadlock against another batch aborts the whole transaction: it is run again, this many times in all. */
const DEADLOCK_ATTEMPTS = 3;
const DEADLOCK_DETECTED = '40P01';

/**
 * Registers many staged products in ONE transaction and answers each on its own, as single
 * registrations made one after another in the batch's order would: the checks outside the
 * transaction are prepareRegistration's, product by product; the writing half costs a few
 * statements for the whole batch (insertRegistrations). A refused product writes nothing, so it
 * fails alone and the others commit; a database failure rolls back the whole batch. The products
 * created are enqueued after the commit in one round trip.
 */
export async function registerProducts(deps: RegistryDeps, inputs: readonly RegisterProductInput[]): Promise<BatchOutcome[]> {
  const existing = new Map((await findProductsByDataIds(deps.pool, [...new Set(inputs.map((i) => i.data_id))])).map((r) => [r.data_id, r]));
  const items = new Array<CheckedItem>(inputs.length);
  await mapLimit(inputs, PREPARE_CONCURRENCY, async (input, index) => {
    try {
      checkRegistrationInput(deps, input);
    } catch (err) {
      items[index] = { input, prepared: refusedOrThrow(err), afterDataIdCheck: false };
      return;
    }
    try {
      const prepared = await prepareCheckedRegistration(deps, input, existing.get(input.data_id));
      items[index] = { input, prepared: prepared.outcome === 'answered' ? { outcome: 'registered', result: prepared.result } : prepared, afterDataIdCheck: true };
    } catch (err) {
      items[index] = { input, prepared: refusedOrThrow(err), afterDataIdCheck: true };
    }
  });
  return writeRegistrations(deps, items);
}

/**
 * The writing half of registrations already checked, for a batch or for single registrations
 * written together (RegistrationWriter): ONE transaction (run again after a deadlock), then the
 * products created are enqueued after the commit in one round trip, small files one job to a
 * group's worth (productsToEnqueue).
 */
export async function writeRegistrations(deps: RegistryDeps, items: readonly CheckedItem[]): Promise<BatchOutcome[]> {
  let outcomes: BatchOutcome[];
  for (let attempt = 1; ; attempt++) {
    try {
      outcomes = await withTransaction(deps.pool, (tx) => insertRegistrations(deps, tx, items));
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= DEADLOCK_ATTEMPTS) throw err;
    }
  }
  const created = items
    .map(({ prepared }, index) => (prepared.outcome === 'ready' && prepared.autoPublish && isCreated(outcomes[index]!) ? prepared : undefined))
    .filter((p) => p !== undefined);
  await enqueueManySafely(deps, productsToEnqueue(deps.config.publish, created));
  return outcomes;
}

function isCreated(o: BatchOutcome): boolean {
  return o.outcome === 'registered' && o.result.created;
}

import type { RegistryDeps } from '../registry-deps';
import type { CheckedItem } from './insert-registrations';
import type { ReadyRegistration, RegisterProductResult } from './register-product';
import { BatchesInTurn } from './batches-in-turn';
import { writeRegistrations } from './register-products';

interface Waiting {
  item: CheckedItem;
  resolve: (result: RegisterProductResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes the registrations of concurrent single requests together, as a database's group commit
 * does: one transaction at a time per process, and whatever arrived while it ran goes in the next
 * (up to REGISTER_BATCH_MAX). A lone request is written at once, so waiting only replaces time
 * spent in another transaction's turn. Each transaction of a single registration costs PostgreSQL
 * its statements, planning and commit, and the api as many round trips: written together, a
 * burst of pipeline registrations costs what a batch does (docs/performance.md).
 *
 * Each request is answered as it would be alone (writeRegistrations answers each product as
 * single registrations made one after another would): a refusal is its own, thrown to its request
 * only. When the shared transaction itself fails, each request in it is written again alone and
 * gets its own answer. Only the writing half is shared: the checks before it (the stage path, the
 * type's rules) ran in each request on its own.
 */
export class RegistrationWriter {
  private readonly turns: BatchesInTurn<Waiting>;

  constructor(private readonly deps: RegistryDeps) {
    this.turns = new BatchesInTurn(deps.config.products.batchMax, (taken) => this.writeTogether(taken));
  }

  /** Writes one checked registration with whatever others are waiting; resolves once it is committed and enqueued. */
  write(prepared: ReadyRegistration): Promise<RegisterProductResult> {
    return new Promise((resolve, reject) => {
      this.turns.push({ item: { input: prepared.input, prepared, afterDataIdCheck: true }, resolve, reject });
    });
  }

  private async writeTogether(taken: Waiting[]): Promise<void> {
    try {
      await this.answer(taken);
    } catch (err) {
      if (taken.length === 1) {
        taken[0]!.reject(err);
        return;
      }
      // One request's write may be what failed (a value PostgreSQL refuses): each is written
      // again alone, so that no request fails for another's. With the database gone, each
      // fails as fast as the first did.
      for (const w of taken) await this.answer([w]).catch(w.reject);
    }
  }

  /** Writes the requests in one transaction and answers each; throws (answering none) when the transaction fails. */
  private async answer(taken: Waiting[]): Promise<void> {
    const outcomes = await writeRegistrations(this.deps, taken.map((w) => w.item));
    taken.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.outcome === 'registered') w.resolve(o.result);
      else w.reject(o.error);
    });
  }
}

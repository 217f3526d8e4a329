import { AppError } from '../../errors';
import { listFailedSelection } from '../../repositories/product-search.repository';
import { discardProduct } from '../lifecycle/discard-product';
import { retryProduct } from '../monitoring/retry-product';
import type { RegistryDeps } from '../registry-deps';

/** The most products one bulk action touches; a larger group is handled in several rounds. */
export const BULK_LIMIT = 500;

/** Which failed products a bulk action covers: whole error classes and/or single data_ids. */
export interface FailedSelection {
  error_classes: string[];
  data_ids: string[];
}

/** The dry run of a bulk action: exactly the failed products it would act on, nothing changed. */
export async function previewFailedSelection(deps: Pick<RegistryDeps, 'pool'>, sel: FailedSelection) {
  return listFailedSelection(deps.pool, { ...sel, limit: BULK_LIMIT });
}

/**
 * Retries the products a preview showed (by data_id: a product that failed after the preview is
 * not swept in). Each one goes through retryProduct, so each gets its event and its job; a product
 * that is no longer failed reports retried false.
 */
export async function bulkRetry(deps: RegistryDeps, dataIds: string[]): Promise<Array<{ data_id: string; ok: boolean; outcome: string }>> {
  const out: Array<{ data_id: string; ok: boolean; outcome: string }> = [];
  for (const id of dataIds.slice(0, BULK_LIMIT)) {
    try {
      const r = await retryProduct(deps, id);
      out.push({ data_id: id, ok: r.retried, outcome: r.retried ? 'queued again' : `not retried: it is ${r.status}` });
    } catch (err) {
      // A refusal (gone, already published) is this product's outcome; anything else stops the batch.
      if (!(err instanceof AppError)) throw err;
      out.push({ data_id: id, ok: false, outcome: (err as Error).message });
    }
  }
  return out;
}

/**
 * Discards the products a preview showed, each through discardProduct (its event names the
 * operator and the reason); a product no longer failed or held reports its refusal.
 */
export async function bulkDiscard(
  deps: RegistryDeps,
  dataIds: string[],
  input: { actor: string; reason: string; removeSource: boolean },
): Promise<Array<{ data_id: string; ok: boolean; outcome: string }>> {
  const out: Array<{ data_id: string; ok: boolean; outcome: string }> = [];
  for (const id of dataIds.slice(0, BULK_LIMIT)) {
    try {
      const r = await discardProduct(deps, { dataId: id, ...input });
      out.push({ data_id: id, ok: true, outcome: `discarded (was ${r.previous_status}; source ${r.source === 'kept' ? 'kept' : 'to be removed'})` });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out.push({ data_id: id, ok: false, outcome: err.message });
    }
  }
  return out;
}

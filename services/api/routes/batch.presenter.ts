import type { ZodError } from 'zod';
import type { BatchOutcome } from '../../core/domain/products/register-products';
import { toResponse } from '../middleware/error-handler';
import { presentProduct } from './product.presenter';

/** A product's outcome, or the zod error its own validation raised. */
export type BatchItemOutcome = BatchOutcome | { outcome: 'refused'; error: ZodError };

/** One item of the reply before JSON (times still Date): the shape batchResponseSchema documents. */
type BatchItem =
  | { index: number; data_id: string; status: 200 | 201; product: ReturnType<typeof presentProduct> }
  | { index: number; data_id: string | null; status: number; error: { code: string; message: string; details?: Record<string, unknown> } };

function dataIdOf(item: unknown): string | null {
  const id = (item as { data_id?: unknown } | null)?.data_id;
  return typeof id === 'string' ? id : null;
}

/**
 * The batch reply: each product at its index with the status and body single registration would
 * answer — refusals through the one error mapping (toResponse), so codes never drift — and totals.
 */
export function presentBatch(outcomes: readonly BatchItemOutcome[], items: readonly unknown[]): { results: BatchItem[]; created: number; existing: number; refused: number } {
  const totals = { created: 0, existing: 0, refused: 0 };
  const results = outcomes.map((o, index): BatchItem => {
    if (o.outcome === 'registered') {
      const { product, created } = o.result;
      totals[created ? 'created' : 'existing']++;
      return { index, data_id: product.data_id, status: created ? 201 : 200, product: presentProduct(product) };
    }
    totals.refused++;
    const { status, body } = toResponse(o.error);
    return { index, data_id: dataIdOf(items[index]), status, error: body.error };
  });
  return { results, ...totals };
}

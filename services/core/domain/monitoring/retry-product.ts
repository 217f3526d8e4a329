import { setTimeout as sleep } from 'node:timers/promises';
import { withTransaction } from '../../db/transaction';
import { ConflictError } from '../../errors';
import { findProductByDataId, lockProductByDataId } from '../../repositories/product.repository';
import { recordRetryRequested } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import { enqueueSafely } from '../products/enqueue-safely';
import { productNotFound } from '../products/get-product';
import type { RegistryDeps } from '../registry-deps';

/** Longest a caller may wait for the outcome of a retry. */
export const MAX_RETRY_WAIT_SECONDS = 300;
const POLL_INTERVAL_MS = 250;

/** How a retried product stands: `queued` is a product in staging, waiting for the worker. */
export type RetryStatus = 'queued' | 'publishing' | 'published' | 'failed';

export interface RetryResult {
  retried: boolean;
  published: boolean;
  status: RetryStatus;
  published_path: string | null;
}

function view(product: ProductRow, retried: boolean): RetryResult {
  return {
    retried,
    published: product.status === 'published',
    status: product.status === 'staging' ? 'queued' : (product.status as RetryStatus),
    published_path: product.published_path,
  };
}

/**
 * Operator retry of one product. `failed` → back to `staging`, due now, attempts reset, a
 * `retry_requested` event, and the job enqueued (a job in BullMQ's failed set is retried in place).
 * `staging`/`publishing`: already on its way, nothing changes (retried false). `published`: 409
 * already_published. With waitSeconds > 0, polls PostgreSQL until the product is published or
 * failed, the wait runs out, or the signal aborts (the client went away).
 */
export async function retryProduct(
  deps: RegistryDeps,
  dataId: string,
  opts: { waitSeconds?: number; signal?: AbortSignal } = {},
): Promise<RetryResult> {
  const { product, retried } = await withTransaction(deps.pool, async (tx) => {
    const row = await lockProductByDataId(tx, dataId);
    if (!row) throw productNotFound(dataId);
    if (row.status === 'published') {
      throw new ConflictError('already_published', `product ${dataId} is already published at ${row.published_path}: nothing to retry`);
    }
    if (row.status === 'discarded' || row.status === 'retracted') {
      throw new ConflictError('invalid_state', `product ${dataId} is ${row.status}: retry accepts failed products`, { status: row.status, verb: 'retry' });
    }
    if (row.status !== 'failed') return { product: row, retried: false };
    const [requeued] = await recordRetryRequested(tx, { id: row.id });
    return { product: requeued ?? row, retried: requeued !== undefined };
  });
  // A held product (auto_publish false) stays held; POST /publish releases it.
  if (retried || (product.status === 'staging' && !product.held)) await enqueueSafely(deps, dataId);

  const waitMs = Math.min(opts.waitSeconds ?? 0, MAX_RETRY_WAIT_SECONDS) * 1000;
  if (waitMs <= 0) return view(product, retried);
  const deadline = Date.now() + waitMs;
  let current = product;
  while (Date.now() < deadline && !opts.signal?.aborted) {
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
    current = (await findProductByDataId(deps.pool, dataId)) ?? current;
    if (current.status === 'published' || current.status === 'failed') break;
  }
  return view(current, retried);
}

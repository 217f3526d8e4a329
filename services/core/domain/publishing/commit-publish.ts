import { LeaseLostError } from '../../errors/publish-error';
import { recordPublished, type PublishedFields } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { Lease, PublishingDeps } from './publishing.types';

/**
 * Commits a publish: the row becomes `published` with its figures, and a `published` event is
 * written, in one statement — only where the row still holds this lease token. A worker that
 * lost its lease gets LeaseLostError and changes nothing.
 */
export async function commitPublish(deps: PublishingDeps, lease: Lease, fields: PublishedFields, durationMs: number): Promise<ProductRow> {
  const row = await recordPublished(deps.pool, lease.productId, lease.token, fields, { attempt: lease.attempt, durationMs, worker: deps.config.instance });
  if (!row) throw new LeaseLostError('lease lost before commit: another worker owns this product');
  return row;
}

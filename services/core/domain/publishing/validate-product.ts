import { LeaseLostError, PublishError } from '../../errors/publish-error';
import { OPAQUE_TYPE } from '../../product-types/product-type.schema';
import type { FitsChecksumObserver } from '../../product-types/fits/fits-checksum';
import { productName, validateSource } from '../../product-types/validate-source';
import type { CopySource } from '../../publish/copy-tree';
import type { TreeSnapshot } from '../../publish/scan-source';
import { recordValidated } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import type { Lease, PublishingDeps } from './publishing.types';

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const text = (v: unknown) => (typeof v === 'string' ? v : null);

/**
 * The type's checks on the staged source, run after the claim and before anything is copied:
 * on success the extracted metadata and a `validated` event are recorded under the lease, and the
 * FITS checksum observer (when the file carries checksums) is returned for the copy to feed; on
 * failure a permanent PublishError('invalid') naming the problem is thrown for recordFailure.
 */
export async function validateProduct(deps: PublishingDeps, product: ProductRow, lease: Lease, source: CopySource, snap: TreeSnapshot): Promise<FitsChecksumObserver | undefined> {
  const def = deps.config.products?.definitions[product.data_type] ?? OPAQUE_TYPE;
  // An opaque type (PRODUCT_TYPES without a types file) has nothing to check: no event, as before types existed.
  if (!def.kind && !def.name_pattern && def.min_bytes === undefined && def.max_bytes === undefined && !def.validators.fits
    && !def.validators.casa_table && !def.obscore) return undefined;
  const { extracted, observer } = await validateSource(def, source, productName(product.destination_path), snap);
  const stored = extracted && def.obscore ? { ...extracted, obscore: def.obscore } : extracted ?? (def.obscore ? { obscore: def.obscore } : null);
  const row = await recordValidated(deps.pool, lease.productId, lease.token, {
    extracted: stored,
    obs_start: text(extracted?.obs_start),
    obs_end: text(extracted?.obs_end),
    ra_deg: num(extracted?.ra_deg),
    dec_deg: num(extracted?.dec_deg),
    freq_hz: num(extracted?.freq_hz),
  }, { attempt: lease.attempt, worker: deps.config.instance });
  if (!row) throw new LeaseLostError();
  return observer;
}

/** After the copy: a checksum the file carries that the copied bytes do not match makes it `invalid`. */
export function assertChecksums(observer: FitsChecksumObserver | undefined): void {
  const problems = observer?.problems() ?? [];
  if (problems.length > 0) throw new PublishError('invalid', `FITS: ${problems.join('; ')}`);
}

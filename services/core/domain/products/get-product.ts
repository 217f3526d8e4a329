import { NotFoundError } from '../../errors';
import { findProductDetail, type ProductDetail } from '../../repositories/product-detail.repository';
import type { RegistryDeps } from '../registry-deps';

/** The product with this data_id, its events (oldest first) and its inputs; 404 product_not_found otherwise. */
export async function getProduct(deps: Pick<RegistryDeps, 'pool'>, dataId: string): Promise<ProductDetail> {
  const detail = await findProductDetail(deps.pool, dataId);
  if (!detail) throw productNotFound(dataId);
  return detail;
}

/** The 404 every operation on a single product answers for an unknown data_id. */
export function productNotFound(dataId: string): NotFoundError {
  return new NotFoundError(`no product with data_id ${dataId}: check the id, or register it with POST /api/products`, 'product_not_found');
}

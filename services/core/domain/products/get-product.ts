import { NotFoundError } from '../../errors';
import { listEventsForProduct } from '../../repositories/event.repository';
import { listInputDataIds } from '../../repositories/lineage.repository';
import { findProductByDataId } from '../../repositories/product.repository';
import type { ProductEventRow, ProductRow } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';

/** The product with this data_id, its events (oldest first) and its inputs; 404 product_not_found otherwise. */
export async function getProduct(deps: Pick<RegistryDeps, 'pool'>, dataId: string): Promise<{ product: ProductRow; events: ProductEventRow[]; derivedFrom: string[] }> {
  const product = await findProductByDataId(deps.pool, dataId);
  if (!product) throw productNotFound(dataId);
  const [events, derivedFrom] = await Promise.all([listEventsForProduct(deps.pool, product.id), listInputDataIds(deps.pool, product.id)]);
  return { product, events, derivedFrom };
}

/** The 404 every operation on a single product answers for an unknown data_id. */
export function productNotFound(dataId: string): NotFoundError {
  return new NotFoundError(`no product with data_id ${dataId}: check the id, or register it with POST /api/products`, 'product_not_found');
}

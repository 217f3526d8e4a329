import { NotFoundError } from '../../errors';
import { listEventsForProduct } from '../../repositories/event.repository';
import { listInputDataIds } from '../../repositories/lineage.repository';
import { findProductByDataId, findSupersedingDataId } from '../../repositories/product.repository';
import type { ProductEventRow, ProductRow } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';

/** One product as its detail views show it. */
export interface ProductDetail {
  product: ProductRow;
  events: ProductEventRow[];
  derivedFrom: string[];
  /** The later product that names this one in `supersedes`, if any. */
  supersededBy: string | undefined;
}

/** The product with this data_id, its events (oldest first), its inputs and its successor; 404 product_not_found otherwise. */
export async function getProduct(deps: Pick<RegistryDeps, 'pool'>, dataId: string): Promise<ProductDetail> {
  const product = await findProductByDataId(deps.pool, dataId);
  if (!product) throw productNotFound(dataId);
  const [events, derivedFrom, supersededBy] = await Promise.all([
    listEventsForProduct(deps.pool, product.id), listInputDataIds(deps.pool, product.id), findSupersedingDataId(deps.pool, product.data_id),
  ]);
  return { product, events, derivedFrom, supersededBy };
}

/** The 404 every operation on a single product answers for an unknown data_id. */
export function productNotFound(dataId: string): NotFoundError {
  return new NotFoundError(`no product with data_id ${dataId}: check the id, or register it with POST /api/products`, 'product_not_found');
}

import { findProductByDataId } from '../../repositories/product.repository';
import { walkLineage, type LineageRow } from '../../repositories/lineage.repository';
import type { RegistryDeps } from '../registry-deps';
import { productNotFound } from './get-product';

export interface LineageInput {
  data_id: string;
  direction: 'ancestors' | 'descendants';
  depth: number;
  limit: number;
}

/**
 * A product's ancestors (what it was derived from, transitively) or descendants (what was derived
 * from it), nearest first; `truncated` when more than `limit` were found. 404 for an unknown data_id.
 */
export async function getLineage(deps: Pick<RegistryDeps, 'pool'>, input: LineageInput): Promise<{ products: LineageRow[]; truncated: boolean }> {
  const product = await findProductByDataId(deps.pool, input.data_id);
  if (!product) throw productNotFound(input.data_id);
  const rows = await walkLineage(deps.pool, product.id, input.direction, input.depth, input.limit + 1);
  return { products: rows.slice(0, input.limit), truncated: rows.length > input.limit };
}

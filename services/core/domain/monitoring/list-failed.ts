import { type FailedProductRow, listFailedProducts } from '../../repositories/failed-product.repository';
import type { RegistryDeps } from '../registry-deps';

/** Failed products, oldest first, at most `limit`; maxAttempts keeps those with at most that many attempts. */
export async function listFailed(
  deps: Pick<RegistryDeps, 'pool'>,
  input: { maxAttempts?: number; limit: number },
): Promise<{ count: number; failed_publishes: FailedProductRow[] }> {
  const failed = await listFailedProducts(deps.pool, input);
  return { count: failed.length, failed_publishes: failed };
}

import { listFailedProducts } from '../../repositories/failed-product.repository';
import type { RegistryDeps } from '../registry-deps';

export interface FailedPublish {
  data_id: string;
  data_type: string;
  stage_path: string;
  publish_attempts: number;
  publish_error: string | null;
  staged_at: Date;
  created_at: Date;
}

/** Failed products, oldest first, at most `limit`; maxAttempts keeps those with at most that many attempts. */
export async function listFailed(
  deps: Pick<RegistryDeps, 'pool'>,
  input: { maxAttempts?: number; limit: number },
): Promise<{ count: number; failed_publishes: FailedPublish[] }> {
  const rows = await listFailedProducts(deps.pool, input);
  const failed = rows.map((r) => ({
    data_id: r.data_id,
    data_type: r.data_type,
    stage_path: r.stage_path,
    publish_attempts: r.publish_attempts,
    publish_error: r.publish_error,
    staged_at: r.staged_at,
    created_at: r.created_at,
  }));
  return { count: failed.length, failed_publishes: failed };
}

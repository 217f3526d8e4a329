import { listFailedDetailed, type SelectedProductRow } from '../../repositories/lifecycle.repository';
import type { SelectionInput } from '../lifecycle/product-selection';
import type { RegistryDeps } from '../registry-deps';

/** One failed product as the failed list shows it: its class, when it failed, and the whole message. */
export interface FailedEntry {
  data_id: string;
  data_type: string;
  stage_path: string;
  publish_attempts: number;
  publish_error: string | null;
  error_class: string | null;
  failed_at: Date;
  created_at: Date;
}

/** Failed products picked by the bulk verbs' filter (oldest failure first by default), at most `limit`. */
export async function listFailed(deps: Pick<RegistryDeps, 'pool'>, input: SelectionInput): Promise<{ count: number; failed_publishes: FailedEntry[] }> {
  const rows: SelectedProductRow[] = await listFailedDetailed(deps.pool, input);
  const failed = rows.map((r) => ({
    data_id: r.data_id, data_type: r.data_type, stage_path: r.stage_path, publish_attempts: r.publish_attempts,
    publish_error: r.publish_error, error_class: r.error_class, failed_at: r.updated_at, created_at: r.created_at,
  }));
  return { count: failed.length, failed_publishes: failed };
}

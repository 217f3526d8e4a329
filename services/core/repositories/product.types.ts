/**
 * Lifecycle of a product in the registry. `failed` is terminal until an operator retries or
 * discards it; `discarded` (a failed or held product given up) and `retracted` (a published product
 * withdrawn and moved aside) are terminal.
 */
export const PRODUCT_STATUSES = ['staging', 'publishing', 'published', 'failed', 'discarded', 'retracted'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];
export type ProductKind = 'file' | 'directory';

/** One entry of a directory product's manifest: path relative to the product, size and digest. */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

/** A products row as the repositories return it. */
export interface ProductRow {
  id: number;
  data_id: string;
  data_type: string;
  stage_path: string;
  destination_path: string;
  published_path: string | null;
  kind: ProductKind;
  status: ProductStatus;
  size_bytes: number | null;
  file_count: number | null;
  checksum_sha256: string | null;
  manifest: ManifestEntry[] | null;
  expected_sha256: string | null;
  publish_attempts: number;
  publish_error: string | null;
  error_class: string | null;
  lease_token: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  staged_at: Date;
  published_at: Date | null;
  updated_at: Date;
  /** staging: when the next attempt may start (null on a row registered before this was recorded: due). */
  due_at: Date | null;
  /** staging: waits for a publish request (registered with auto_publish false). */
  held: boolean;
  /** published, move mode: the source has still to be removed. */
  source_removal_pending: boolean;
  /**
   * Derived by PostgreSQL from the three above and lease_expires_at (never written): when the
   * product should next be in the queue. The reconciler's due sweep walks it.
   */
  next_attempt_at: Date | null;
  /** Where a retracted product lies now, relative to PRODUCTS_ROOT (null until the worker moved it). */
  retracted_path: string | null;
  /** The data_id of the product this one corrects, if any. */
  supersedes: string | null;
  /** Retracted or discarded: a worker still has to move the files aside or remove the source. */
  file_action_pending: boolean;
  /** What the type's validators read from the product (docs/product-types.md); null until validated. */
  extracted: Record<string, unknown> | null;
  obs_start: Date | null;
  obs_end: Date | null;
  ra_deg: number | null;
  dec_deg: number | null;
  freq_hz: number | null;
}

/**
 * Every column of ProductRow, for statements that name their columns rather than `SELECT *` (a
 * prepared statement must: db/prepared.ts). A Record, so the compiler refuses a list that misses
 * a field of ProductRow or names one it lacks.
 */
const PRODUCT_COLUMN_SET: Record<keyof ProductRow, true> = {
  id: true, data_id: true, data_type: true, stage_path: true, destination_path: true, published_path: true,
  kind: true, status: true, size_bytes: true, file_count: true, checksum_sha256: true, manifest: true,
  expected_sha256: true, publish_attempts: true, publish_error: true, error_class: true, lease_token: true,
  lease_owner: true, lease_expires_at: true, metadata: true, created_at: true, staged_at: true,
  published_at: true, updated_at: true, due_at: true, held: true, source_removal_pending: true,
  next_attempt_at: true, retracted_path: true, supersedes: true, file_action_pending: true, extracted: true,
  obs_start: true, obs_end: true, ra_deg: true, dec_deg: true, freq_hz: true,
};
export const PRODUCT_COLUMNS = Object.keys(PRODUCT_COLUMN_SET) as ReadonlyArray<keyof ProductRow>;

const PRODUCT_COLUMN_LIST = PRODUCT_COLUMNS.join(', ');

/**
 * PRODUCT_COLUMNS as a select list, each prefixed with `alias.` when one is given. The plain list
 * is built once: the publish path's statements ask for it on every call.
 */
export function productColumns(alias?: string): string {
  return alias ? PRODUCT_COLUMNS.map((c) => `${alias}.${c}`).join(', ') : PRODUCT_COLUMN_LIST;
}

/** A product_events row: one state change of one product. */
export interface ProductEventRow {
  id: number;
  product_id: number;
  data_id: string;
  event: string;
  attempt: number;
  from_status: ProductStatus | null;
  to_status: ProductStatus;
  error_class: string | null;
  error: string | null;
  bytes: number | null;
  duration_ms: number | null;
  worker: string | null;
  /** Who asked for an operator transition (token name), and why. */
  actor: string | null;
  reason: string | null;
  /** What an operator transition replaced or chose (amend: old and new values). */
  detail: Record<string, unknown> | null;
  /** The event ended a publish attempt (counted in the success rate). */
  ends_attempt: boolean;
  created_at: Date;
}

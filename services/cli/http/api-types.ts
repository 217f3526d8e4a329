// Response shapes of the Ferry API that ferryctl reads (issue 2 and 4 field names, snake_case).

/** GET /api/monitoring/publish/status. */
export interface PublishStatus {
  total_published: number;
  total_staging: number;
  total_publishing: number;
  failed_publishes: number;
  max_attempts_exceeded: number;
  success_rate_percent: number | null;
  recent_failures_24h: number;
  /** Failures in the last hour, when the API reports it (see collect-health.ts for the fallback). */
  recent_failures_1h?: number;
  total_discarded?: number;
  total_retracted?: number;
  total_held?: number;
  success_rate?: { window_hours: number; products: number; succeeded: number; min_products: number; enough_data: boolean };
  oldest_waiting_age_seconds?: number;
  oldest_failed_age_seconds?: number;
  paused?: { scope: string; actor: string; reason: string; paused_at: string }[];
  timestamp: string;
}

/** One entry of GET /api/monitoring/publish/failed. */
export interface FailedProduct {
  data_id: string;
  data_type: string;
  stage_path: string;
  publish_attempts: number;
  publish_error: string | null;
  error_class?: string | null;
  failed_at?: string;
  staged_at?: string;
  created_at: string;
  updated_at?: string;
}

/** GET /api/monitoring/publish/failed. */
export interface FailedList {
  count: number;
  failed_publishes: FailedProduct[];
}

/** POST /api/monitoring/publish/retry/{data_id}. */
export interface RetryResult {
  retried: boolean;
  published: boolean;
  status: string;
  published_path: string | null;
}

/** POST /api/monitoring/publish/retry-all. */
export interface RetryAllResult {
  total_attempted: number;
  successful: number;
  failed: number;
  dry_run?: boolean;
  skipped?: number;
  results: BulkItem[];
}

/** One product's line in a bulk verb's answer. */
export interface BulkItem {
  data_id: string;
  data_type?: string;
  error_class?: string | null;
  attempts?: number;
  since?: string;
  outcome?: 'done' | 'would_do' | 'skipped' | 'error';
  message?: string;
  success?: boolean;
  error?: string;
}

/** A bulk verb's answer (discard-all; retry-all adds the legacy totals). */
export interface BulkResult {
  verb: string;
  dry_run: boolean;
  total_selected: number;
  done: number;
  skipped: number;
  errors: number;
  results: BulkItem[];
}

/** One file of a directory product's manifest. */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

/** One entry of a product's event log. */
export interface ProductEvent {
  event: string;
  attempt: number;
  from_status: string | null;
  to_status: string;
  error_class: string | null;
  error: string | null;
  created_at: string;
  [key: string]: unknown;
}

/** A product as GET /api/products and GET /api/products/{data_id} show it. */
export interface Product {
  data_id: string;
  data_type: string;
  stage_path: string;
  published_path: string | null;
  kind: 'file' | 'directory';
  status: string;
  size_bytes: number | null;
  file_count: number | null;
  checksum_sha256: string | null;
  manifest?: ManifestEntry[] | null;
  publish_attempts: number;
  publish_error: string | null;
  error_class?: string | null;
  created_at: string;
  staged_at?: string;
  published_at: string | null;
  updated_at?: string;
  events?: ProductEvent[];
  [key: string]: unknown;
}

/** GET /api/products: one keyset page. */
export interface ProductPage {
  products: Product[];
  next_cursor: string | null;
}

/** Query filters of GET /api/products. */
export interface ProductFilters {
  status?: string;
  data_type?: string;
  created_since?: string;
  created_until?: string;
  cursor?: string;
  limit?: number;
}

/** A token as GET /api/tokens lists it (never its secret). */
export interface TokenInfo {
  id?: number | string;
  name: string;
  scopes: string[];
  created_at?: string;
  last_used_at?: string | null;
  revoked_at?: string | null;
  [key: string]: unknown;
}

/** GET /health (unauthenticated). */
export interface HealthReport {
  status: string;
  service?: string;
  version?: string;
  timestamp?: string;
  [key: string]: unknown;
}

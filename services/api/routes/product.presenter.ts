import type { ProductEventRow, ProductRow } from '../../core/repositories/product.types';

/**
 * A product as the API shows it: snake_case, times as ISO 8601 UTC (Date → JSON). The lease token
 * (the worker's fencing secret) and the internal id stay out; the per-file manifest only in the single-product view.
 */
export function presentProduct(p: ProductRow) {
  return {
    data_id: p.data_id,
    data_type: p.data_type,
    stage_path: p.stage_path,
    destination_path: p.destination_path,
    published_path: p.published_path,
    kind: p.kind,
    status: p.status,
    size_bytes: p.size_bytes,
    file_count: p.file_count,
    checksum_sha256: p.checksum_sha256,
    expected_sha256: p.expected_sha256,
    publish_attempts: p.publish_attempts,
    publish_error: p.publish_error,
    error_class: p.error_class,
    lease_owner: p.lease_owner,
    lease_expires_at: p.lease_expires_at,
    metadata: p.metadata,
    created_at: p.created_at,
    staged_at: p.staged_at,
    published_at: p.published_at,
    updated_at: p.updated_at,
    next_attempt_at: p.next_attempt_at,
    held: p.status === 'staging' && p.held,
    retracted_path: p.retracted_path ?? null,
    supersedes: p.supersedes ?? null,
  };
}

/** One audit-trail entry. */
export function presentEvent(e: ProductEventRow) {
  return {
    id: e.id,
    event: e.event,
    attempt: e.attempt,
    from_status: e.from_status,
    to_status: e.to_status,
    error_class: e.error_class,
    error: e.error,
    bytes: e.bytes,
    duration_ms: e.duration_ms,
    worker: e.worker,
    actor: e.actor ?? null,
    reason: e.reason ?? null,
    detail: e.detail ?? null,
    created_at: e.created_at,
  };
}

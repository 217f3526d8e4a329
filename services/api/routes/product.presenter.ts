import type { ProductEventRow, ProductRow } from '../../core/repositories/product.types';
import type { ProductDetail } from '../../core/repositories/product-detail.repository';
import type { ProductEventResponse, ProductResponse, ProductWithEventsResponse } from '../schemas/products.responses';

// The shapes come from the zod response schemas (products.responses.ts); these functions only map
// a row onto them. Times are written as JSON.stringify(Date) writes them (toISOString()).
const iso = (d: Date) => d.toISOString();
// pg reads the timestamp '-infinity' (next_attempt_at of a staging row due since registration) as
// the number -Infinity, not a Date; JSON.stringify wrote it as null, and so does this.
const isoOrNull = (d: Date | number | null) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null);

/**
 * A product as the API shows it: snake_case, times as ISO 8601 UTC. The lease token (the worker's
 * fencing secret) and the internal id stay out; the per-file manifest only in the single-product view.
 */
export function presentProduct(p: ProductRow): ProductResponse {
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
    lease_expires_at: isoOrNull(p.lease_expires_at),
    metadata: p.metadata,
    created_at: iso(p.created_at),
    staged_at: iso(p.staged_at),
    published_at: isoOrNull(p.published_at),
    updated_at: iso(p.updated_at),
    next_attempt_at: isoOrNull(p.next_attempt_at),
    held: p.status === 'staging' && p.held,
    retracted_path: p.retracted_path ?? null,
    supersedes: p.supersedes ?? null,
  };
}

/** What the type's validators read from the product (null fields until it is validated; docs/product-types.md). */
export function presentObservation(p: ProductRow): ProductWithEventsResponse['observation'] {
  return {
    obs_start: isoOrNull(p.obs_start),
    obs_end: isoOrNull(p.obs_end),
    ra_deg: p.ra_deg,
    dec_deg: p.dec_deg,
    freq_hz: p.freq_hz,
    extracted: p.extracted,
  };
}

/** One audit-trail entry. */
export function presentEvent(e: ProductEventRow): ProductEventResponse {
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
    created_at: iso(e.created_at),
  };
}

/** The single-product view: the product, its per-file manifest (`ferryctl audit` re-hashes against it; lists leave it out), its events and lineage. */
export function presentProductDetail({ product, events, derivedFrom, supersededBy }: ProductDetail): ProductWithEventsResponse {
  return {
    ...presentProduct(product), manifest: product.manifest, events: events.map(presentEvent),
    derived_from: derivedFrom, superseded_by: supersededBy ?? null, observation: presentObservation(product),
  };
}

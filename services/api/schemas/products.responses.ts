import { z } from 'zod';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';

// The JSON the registry routes answer with, declared once: the OpenAPI document is generated from
// these schemas (openapi/registry.paths.ts), its test validates real responses against it, and
// ferryctl imports the inferred types. Times are ISO 8601 UTC strings on the wire.

const dateTime = z.iso.datetime();
const count = z.number().int();

/** A product as the API shows it (product.presenter.ts): never the lease token or the internal id. */
export const productResponseSchema = z.strictObject({
  data_id: z.string(),
  data_type: z.string(),
  stage_path: z.string().describe('Relative to STAGE_ROOT, symlinks resolved'),
  destination_path: z.string().describe('Relative to PRODUCTS_ROOT'),
  published_path: z.string().nullable(),
  kind: z.enum(['file', 'directory']),
  status: z.enum(PRODUCT_STATUSES),
  size_bytes: count.nullable(),
  file_count: count.nullable(),
  checksum_sha256: z.string().nullable(),
  expected_sha256: z.string().nullable(),
  publish_attempts: count,
  publish_error: z.string().nullable(),
  error_class: z.string().nullable(),
  lease_owner: z.string().nullable(),
  lease_expires_at: dateTime.nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: dateTime,
  staged_at: dateTime,
  published_at: dateTime.nullable(),
  updated_at: dateTime,
  next_attempt_at: dateTime.nullable().describe('null while held (registered with auto_publish false)'),
  held: z.boolean().describe('staging with no due time: waits for a release'),
  retracted_path: z.string().nullable().describe('Where a retracted product lies now, relative to PRODUCTS_ROOT'),
  supersedes: z.string().nullable().describe('data_id of the product this one corrects'),
});
export type ProductResponse = z.infer<typeof productResponseSchema>;

/** One file of a directory product's manifest. */
export const manifestEntrySchema = z.strictObject({ path: z.string(), size: count, sha256: z.string() });
export type ManifestEntryResponse = z.infer<typeof manifestEntrySchema>;

/** One entry of a product's event log. */
export const productEventResponseSchema = z.strictObject({
  id: count,
  event: z.string(),
  attempt: count,
  from_status: z.string().nullable(),
  to_status: z.string(),
  error_class: z.string().nullable(),
  error: z.string().nullable(),
  bytes: count.nullable(),
  duration_ms: count.nullable(),
  worker: z.string().nullable(),
  actor: z.string().nullable().describe('Token name of the operator who asked (operator verbs)'),
  reason: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable().describe('What an operator verb replaced or chose (amend: old and new values)'),
  created_at: dateTime,
});
export type ProductEventResponse = z.infer<typeof productEventResponseSchema>;

/** GET /api/products/{data_id}: the product with its manifest and events. */
export const productWithEventsResponseSchema = productResponseSchema.extend({
  manifest: z.array(manifestEntrySchema).nullable().describe('Per-file manifest of a published directory (path, size, sha256); null otherwise'),
  events: z.array(productEventResponseSchema),
  derived_from: z.array(z.string()).describe('data_ids named in derived_from at registration'),
  superseded_by: z.string().nullable().describe('data_id of the later product registered with supersedes naming this one'),
  observation: z.strictObject({
    obs_start: dateTime.nullable(),
    obs_end: dateTime.nullable(),
    ra_deg: z.number().nullable(),
    dec_deg: z.number().nullable(),
    freq_hz: z.number().nullable(),
    extracted: z.record(z.string(), z.unknown()).nullable().describe('Everything the type validators extracted (docs/product-types.md)'),
  }),
});
export type ProductWithEventsResponse = z.infer<typeof productWithEventsResponseSchema>;

/** GET /api/products: one keyset page. */
export const productPageResponseSchema = z.strictObject({
  products: z.array(productResponseSchema),
  next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last'),
});
export type ProductPageResponse = z.infer<typeof productPageResponseSchema>;

/** POST /api/products/{data_id}/publish. */
export const publishRequestResponseSchema = z.strictObject({
  data_id: z.string(),
  status: z.enum(['staging', 'publishing']),
  enqueue: z.enum(['added', 'already_queued', 'retried', 'deferred']).describe('deferred: Redis unreachable; the reconciler enqueues it'),
});
export type PublishRequestResponse = z.infer<typeof publishRequestResponseSchema>;

/** The error body of one refused product in a batch: the same code and message a single registration answers. */
const batchErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** One product's answer in a batch, at its position in the request. */
export const batchItemResponseSchema = z.union([
  z.strictObject({
    index: count,
    data_id: z.string(),
    status: z.union([z.literal(201), z.literal(200)]).describe('201 registered now; 200 the identical product was registered before'),
    product: productResponseSchema,
  }),
  z.strictObject({
    index: count,
    data_id: z.string().nullable().describe('null when the item carries no data_id string'),
    status: count.min(400).max(499).describe('The status a single registration of this product would answer'),
    error: batchErrorSchema,
  }),
]);
export type BatchItemResponse = z.infer<typeof batchItemResponseSchema>;

/** POST /api/products/batch: every product answered on its own, and the totals. */
export const batchResponseSchema = z.strictObject({
  results: z.array(batchItemResponseSchema),
  created: count,
  existing: count,
  refused: count,
});
export type BatchResponse = z.infer<typeof batchResponseSchema>;

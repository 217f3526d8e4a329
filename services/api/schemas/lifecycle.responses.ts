import { z } from 'zod';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';

// The JSON the operator verbs, bulk verbs and publishing controls answer with, declared once (see products.responses.ts).

const dateTime = z.iso.datetime();
const count = z.number().int();

/** A pause in force. */
export const pauseResponseSchema = z.strictObject({
  scope: z.string().describe('"*" (whole service) or a data type'),
  actor: z.string(),
  reason: z.string(),
  paused_at: dateTime,
});
export type PauseResponse = z.infer<typeof pauseResponseSchema>;

/** One worker with a live heartbeat and what it copies now. */
export const workerStatusResponseSchema = z.strictObject({
  instance: z.string(),
  last_seen: dateTime,
  age_seconds: z.number(),
  bandwidth_limit_bytes_per_sec: count.nullable(),
  copies: z.array(z.strictObject({
    data_id: z.string(),
    data_type: z.string(),
    size_bytes: count,
    copied_bytes: count,
    started_at: dateTime,
    rate_bytes_per_sec: count,
    eta_seconds: z.number().nullable(),
  })),
});
export type WorkerStatusResponse = z.infer<typeof workerStatusResponseSchema>;

/** One product's line in a bulk verb's answer. */
export const bulkItemResponseSchema = z.strictObject({
  data_id: z.string(),
  data_type: z.string(),
  error_class: z.string().nullable(),
  attempts: count,
  since: dateTime.describe('When the product entered its state'),
  outcome: z.enum(['done', 'would_do', 'skipped', 'error']).describe('would_do: a dry run'),
  message: z.string().optional(),
});
export type BulkItemResponse = z.infer<typeof bulkItemResponseSchema>;

/** A bulk verb's answer. */
export const bulkResultResponseSchema = z.strictObject({
  verb: z.string(),
  dry_run: z.boolean(),
  total_selected: count,
  done: count,
  skipped: count,
  errors: count,
  results: z.array(bulkItemResponseSchema),
});
export type BulkResultResponse = z.infer<typeof bulkResultResponseSchema>;

/** The bandwidth limit in force. */
export const bandwidthResponseSchema = z.strictObject({
  max_bytes_per_sec: count.describe('0 = unlimited'),
  source: z.enum(['setting', 'environment']),
  updated_by: z.string().nullable(),
  updated_at: dateTime.nullable(),
});

/** POST /api/publishing/pause and /resume. */
export const pausesResponseSchema = z.strictObject({ changed: z.boolean(), pauses: z.array(pauseResponseSchema) });

/** GET /api/publishing/controls. */
export const controlsResponseSchema = z.strictObject({ paused: z.array(pauseResponseSchema), bandwidth: bandwidthResponseSchema });

/** POST /api/products/{data_id}/discard. */
export const discardResponseSchema = z.strictObject({
  data_id: z.string(), status: z.literal('discarded'), previous_status: z.string(), source: z.enum(['kept', 'removal_pending']),
});
/** POST /api/products/{data_id}/amend. */
export const amendResponseSchema = z.strictObject({ data_id: z.string(), status: z.string(), changed: z.array(z.string()) });
/** POST /api/products/{data_id}/retract. */
export const retractResponseSchema = z.strictObject({
  data_id: z.string(), status: z.literal('retracted'), published_path: z.string().nullable(), move: z.literal('pending'),
  descendants: z.array(z.strictObject({
    data_id: z.string(), data_type: z.string(), status: z.enum(PRODUCT_STATUSES), depth: z.number().int(),
  })).describe('Products derived from it (lineage, nearest first), which may need retracting too; Ferry leaves them as they are'),
  descendants_truncated: z.boolean().describe('More descendants than listed: GET /api/products/{data_id}/descendants has them all'),
});
export type RetractResponse = z.infer<typeof retractResponseSchema>;
/** POST /api/products/{data_id}/hold and /release. */
export const holdResponseSchema = (state: 'held' | 'waiting') => z.strictObject({ data_id: z.string(), state: z.literal(state), changed: z.boolean() });

/** GET /api/monitoring/publish/manifests: one page. */
export const manifestsPageResponseSchema = z.strictObject({
  products: z.array(z.strictObject({
    data_id: z.string(),
    data_type: z.string(),
    kind: z.enum(['file', 'directory']),
    published_path: z.string().nullable(),
    size_bytes: count.nullable(),
    file_count: count.nullable(),
    checksum_sha256: z.string().nullable(),
    manifest: z.array(z.record(z.string(), z.unknown())).nullable(),
  })),
  next_cursor: z.string().nullable(),
});
export type ManifestsPageResponse = z.infer<typeof manifestsPageResponseSchema>;

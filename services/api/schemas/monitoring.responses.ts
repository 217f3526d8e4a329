import { z } from 'zod';
import { bulkItemResponseSchema, bulkResultResponseSchema, pauseResponseSchema, workerStatusResponseSchema } from './lifecycle.responses';

// The JSON the monitoring and status routes answer with, declared once (see products.responses.ts).

const dateTime = z.iso.datetime();
const count = z.number().int();

/** GET /api/monitoring/publish/status. */
export const publishStatusResponseSchema = z.strictObject({
  total_published: count,
  total_staging: count,
  total_publishing: count,
  failed_publishes: count.describe('Every failed product, whatever its attempts'),
  max_attempts_exceeded: count.describe('Failed products whose attempts reached PUBLISH_MAX_ATTEMPTS'),
  total_discarded: count,
  total_retracted: count,
  total_held: count,
  success_rate_percent: z.number().nullable()
    .describe('Share of products whose latest outcome in the last 24 h was a publish; null (not enough data) below SUCCESS_RATE_MIN_PRODUCTS'),
  success_rate: z.strictObject({ window_hours: count, products: count, succeeded: count, min_products: count, enough_data: z.boolean() }),
  recent_failures_24h: count.describe('Products whose latest outcome in the last 24 h was a failure'),
  oldest_waiting_age_seconds: count.describe('Held products and paused types left out'),
  oldest_failed_age_seconds: count,
  paused: z.array(pauseResponseSchema),
  timestamp: dateTime,
});
export type PublishStatusResponse = z.infer<typeof publishStatusResponseSchema>;

/** One entry of GET /api/monitoring/publish/failed. */
export const failedProductResponseSchema = z.strictObject({
  data_id: z.string(),
  data_type: z.string(),
  stage_path: z.string(),
  publish_attempts: count,
  publish_error: z.string().nullable().describe('The whole message'),
  error_class: z.string().nullable(),
  failed_at: dateTime,
  created_at: dateTime,
});
export type FailedProductResponse = z.infer<typeof failedProductResponseSchema>;

/** GET /api/monitoring/publish/failed. */
export const failedListResponseSchema = z.strictObject({
  count: count.describe('Number of entries in failed_publishes'),
  failed_publishes: z.array(failedProductResponseSchema),
});
export type FailedListResponse = z.infer<typeof failedListResponseSchema>;

/** GET /api/monitoring/publish/reconcile: drift between registry, queue and both roots. */
export const reconcileReportResponseSchema = z.object({
  healthy: z.boolean(),
  generated_at: dateTime,
  counts: z.record(z.string(), count),
  orphan_temporaries: z.array(z.record(z.string(), z.unknown())).optional(),
  published_missing: z.array(z.record(z.string(), z.unknown())).optional(),
  published_size_mismatch: z.array(z.record(z.string(), z.unknown())).optional(),
  files_without_row: z.array(z.record(z.string(), z.unknown())).optional(),
  jobs_without_row: z.array(z.record(z.string(), z.unknown())).optional(),
}).loose();
export type ReconcileReportResponse = z.infer<typeof reconcileReportResponseSchema>;

/** POST /api/monitoring/publish/retry/{data_id}. */
export const retryResponseSchema = z.strictObject({
  retried: z.boolean(),
  published: z.boolean(),
  status: z.enum(['queued', 'publishing', 'published', 'failed']).describe('queued: in staging, waiting for the worker'),
  published_path: z.string().nullable(),
});
export type RetryResponse = z.infer<typeof retryResponseSchema>;

/** POST /api/monitoring/publish/retry-all. */
export const retryAllResponseSchema = bulkResultResponseSchema.extend({
  total_attempted: count,
  successful: count,
  failed: count,
  results: z.array(bulkItemResponseSchema.extend({ success: z.boolean().optional() })),
});
export type RetryAllResponse = z.infer<typeof retryAllResponseSchema>;

/** GET /api/status. */
export const serviceStatusResponseSchema = z.strictObject({
  queue: z.strictObject({ waiting: count, active: count, delayed: count, failed: count }),
  worker_heartbeat: z.strictObject({ instance: z.string(), at: dateTime, age_seconds: z.number() }).nullable()
    .describe('The newest heartbeat across worker instances; null when no heartbeat key exists'),
  workers: z.array(workerStatusResponseSchema).describe('Every worker with a live heartbeat, oldest heartbeat first'),
  paused: z.array(pauseResponseSchema),
  timestamp: dateTime,
});
export type ServiceStatusResponse = z.infer<typeof serviceStatusResponseSchema>;

import { z } from 'zod';
import type { SelectionInput } from '../../core/domain/lifecycle/product-selection';
import { queryInt } from './common.schemas';
import { MAX_METADATA_DEPTH } from './products.schemas';

/** Most products one bulk call acts on. */
export const MAX_BULK_LIMIT = 500;

const csv = z
  .string()
  .max(2000)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z0-9_-]{1,64}$/, 'lower-case names [a-z0-9_-], comma-separated')).max(50));
const time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * The filter language every bulk verb and the failed list take, as query parameters:
 * error_class / exclude_error_class / data_type (comma lists), since / until (when the product
 * entered its state, ISO 8601), min_attempts / max_attempts, order (oldest | newest), limit.
 */
export const selectionQueryShape = {
  error_class: csv.optional(),
  exclude_error_class: csv.optional(),
  data_type: csv.optional(),
  since: time.optional(),
  until: time.optional(),
  min_attempts: queryInt(0, 1_000_000).optional(),
  max_attempts: queryInt(0, 1_000_000).optional(),
  order: z.enum(['oldest', 'newest']).default('oldest'),
};

/** The parsed filter as the domain takes it. */
export function toSelection(q: z.infer<z.ZodObject<typeof selectionQueryShape>> & { limit: number }): SelectionInput {
  return {
    error_classes: q.error_class, exclude_error_classes: q.exclude_error_class, data_types: q.data_type,
    since: q.since, until: q.until, min_attempts: q.min_attempts, max_attempts: q.max_attempts, order: q.order, limit: q.limit,
  };
}

/** POST /api/monitoring/publish/retry-all query: the filter, a limit and dry_run. */
export const retryAllQuerySchema = z.strictObject({
  ...selectionQueryShape,
  limit: queryInt(1, MAX_BULK_LIMIT).default(10),
  dry_run: flag.default(false),
});

/** POST /api/monitoring/publish/discard-all query: which state, the filter, a limit and dry_run. */
export const discardAllQuerySchema = z.strictObject({
  state: z.enum(['failed', 'held']).default('failed'),
  ...selectionQueryShape,
  limit: queryInt(1, MAX_BULK_LIMIT).default(10),
  dry_run: flag.default(false),
});

const reason = z.string().trim().min(1, 'say why (it is kept in the event log)').max(2000);

/** POST /api/monitoring/publish/discard-all body. */
export const discardAllBodySchema = z.strictObject({ reason, remove_source: z.boolean().default(false) });

/** POST /api/products/{data_id}/discard body. */
export const discardBodySchema = z.strictObject({ reason, remove_source: z.boolean().default(false) });

/** POST /api/products/{data_id}/retract body. */
export const retractBodySchema = z.strictObject({ reason });

/** POST /api/products/{data_id}/hold and /release body (reason optional). */
export const holdBodySchema = z.strictObject({ reason: reason.optional() });

/** POST /api/products/{data_id}/amend body: the fields an operator may correct before a retry. */
export const amendBodySchema = z.strictObject({
  expected_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
    .transform((s) => s.toLowerCase())
    .nullable()
    .optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => !JSON.stringify(m).includes('\\u0000'), 'must not contain a NUL character')
    .refine((m) => depth(m) <= MAX_METADATA_DEPTH, `must not nest deeper than ${MAX_METADATA_DEPTH} levels`)
    .optional(),
  reason: reason.optional(),
});

function depth(v: unknown, d = 0): number {
  if (!v || typeof v !== 'object' || d > MAX_METADATA_DEPTH) return d;
  return Math.max(d, ...Object.values(v).map((x) => depth(x, d + 1)));
}

/** POST /api/publishing/pause and /resume body: one data type, or the whole service. */
export const pauseBodySchema = z.strictObject({ data_type: z.string().min(1).max(64).optional(), reason });
export const resumeBodySchema = z.strictObject({ data_type: z.string().min(1).max(64).optional(), reason: reason.optional() });

/** PUT /api/publishing/bandwidth body: bytes per second (0 = unlimited), or null for the workers' PUBLISH_MAX_BYTES_PER_SEC. */
export const bandwidthBodySchema = z.strictObject({
  max_bytes_per_sec: z.number().int().min(0).max(1_000_000_000_000).nullable(),
  reason: reason.optional(),
});

/** GET /api/audit/manifests query: published products with their manifests, many per page. */
export const manifestsQuerySchema = z.strictObject({
  data_type: z.string().min(1).max(64).optional(),
  cursor: z.string().min(1).max(200).optional(),
  limit: queryInt(1, 500).default(200),
});

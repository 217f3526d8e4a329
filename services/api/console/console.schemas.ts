import { z } from 'zod';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';

/** A form or query field that may be sent once, several times, or not at all → a list. */
const many = z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
/** An optional text field where empty means "not set". */
const text = (max: number) => z.string().max(max).optional().transform((v) => v?.trim() ?? '');
/** A datetime-local value (no zone), read as UTC. */
const utcLocal = text(40).refine((v) => v === '' || !Number.isNaN(Date.parse(`${v}Z`)), 'give a date and time like 2026-01-31T12:00');

/** GET /console/products */
export const productsQuery = z.object({
  status: z.union([z.enum(PRODUCT_STATUSES), z.literal('')]).optional().transform((v) => v ?? ''),
  data_type: text(64),
  error_class: text(100),
  since: utcLocal,
  until: utcLocal,
  data_id: text(200),
  metadata: text(400),
  cursor: text(400),
});

/** GET /console/products/:dataId */
export const productQuery = z.object({ files: z.coerce.number().int().min(0).max(10_000_000).optional().default(0) });

/** GET /console/failures/preview */
export const previewQuery = z.object({
  action: z.enum(['retry', 'discard']).default('retry'),
  error_class: many,
  data_id: many,
});

/** POST /console/failures/retry: the data_ids the preview listed. */
export const bulkBody = z.object({ data_id: many });

/** POST /console/tokens */
export const createTokenForm = z.object({ name: z.string(), scopes: many });

/** GET /console/events */
export const eventsQuery = z.object({ topic: z.string().min(1).max(300), seen: z.string().regex(/^[0-9a-f]{32}$/).optional() });

/** A datetime-local field as a Date (UTC), or undefined when empty. */
export function utcDate(v: string): Date | undefined {
  return v ? new Date(`${v}Z`) : undefined;
}

/** A verb's reason: kept in the event log. */
const reason = z.string().trim().min(1, 'say why (it is kept in the event log)').max(2000);
/** An optional reason: an empty field means none. */
const optionalReason = z.string().trim().max(2000).optional().transform((v) => (v ? v : null));

/** POST /console/products/:dataId/{hold,release} */
export const optionalReasonForm = z.object({ reason: optionalReason });
/** POST /console/products/:dataId/retract, POST /console/publishing/pause (with its scope) */
export const reasonForm = z.object({ reason });
/** POST /console/products/:dataId/discard */
export const discardForm = z.object({ reason, remove_source: z.literal('true').optional() });
/** POST /console/products/:dataId/amend: an empty digest stops checking one. */
export const amendForm = z.object({
  reason,
  expected_sha256: z.string().trim().regex(/^([0-9a-fA-F]{64})?$/, 'expected_sha256: 64 hex digits, or empty to stop checking').transform((v) => (v ? v.toLowerCase() : null)),
});
/** POST /console/publishing/pause and /resume: '*' is every data type. */
export const pauseForm = z.object({ scope: z.string().min(1).max(64), reason: optionalReason });
/** POST /console/failures/discard */
export const bulkDiscardBody = z.object({ data_id: many, reason, remove_source: z.literal('true').optional() });

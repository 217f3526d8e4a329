import { z } from 'zod';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';

// The JSON the lineage and search routes answer with, declared once (see products.responses.ts).

const dateTime = z.iso.datetime();
const status = z.enum(PRODUCT_STATUSES);

/** One product reached by a lineage walk. */
export const lineageEntrySchema = z.strictObject({
  data_id: z.string(),
  data_type: z.string(),
  status,
  depth: z.number().int().describe('1 = a direct input (ancestors) or output (descendants)'),
  via: z.array(z.string()).describe('data_ids one step closer through which it was reached'),
});

/** GET /api/products/{data_id}/ancestors and …/descendants. */
export const lineageResponseSchema = z.strictObject({
  data_id: z.string(),
  direction: z.enum(['ancestors', 'descendants']),
  products: z.array(lineageEntrySchema),
  truncated: z.boolean(),
});
export type LineageResponse = z.infer<typeof lineageResponseSchema>;

/** One product found by the time/sky search. */
export const searchHitSchema = z.strictObject({
  data_id: z.string(),
  data_type: z.string(),
  status,
  published_path: z.string().nullable(),
  obs_start: dateTime,
  obs_end: dateTime.nullable(),
  ra_deg: z.number().nullable(),
  dec_deg: z.number().nullable(),
  freq_hz: z.number().nullable(),
  distance_deg: z.number().nullable().describe('separation from the cone centre'),
});
export type SearchHitResponse = z.infer<typeof searchHitSchema>;

/** GET /api/search/products: one page, in observation order. */
export const searchPageResponseSchema = z.strictObject({
  products: z.array(searchHitSchema),
  next_cursor: z.string().nullable(),
});
export type SearchPageResponse = z.infer<typeof searchPageResponseSchema>;

import { z } from 'zod';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';
import { MAX_DERIVED_FROM } from '../../core/domain/products/check-lineage';
import { dataIdSchema, queryInt } from './common.schemas';

/** Largest page GET /api/products returns. */
export const MAX_PAGE_SIZE = 500;

/** Deepest metadata nesting accepted: comparisons of metadata recurse, and no real producer nests deeper. */
export const MAX_METADATA_DEPTH = 32;

/**
 * What is wrong with a metadata value PostgreSQL or the registry cannot handle: a NUL in a key or
 * string (jsonb refuses it) or nesting deeper than MAX_METADATA_DEPTH. Iterative, so any input is safe.
 */
function metadataProblem(value: unknown): string | undefined {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [v, depth] = pending.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) return 'must not contain a NUL character (\\u0000) in any key or string: remove it';
    } else if (v && typeof v === 'object') {
      if (depth >= MAX_METADATA_DEPTH) return `must not nest deeper than ${MAX_METADATA_DEPTH} levels: flatten it`;
      for (const [k, inner] of Object.entries(v)) {
        if (k.includes('\0')) return 'must not contain a NUL character (\\u0000) in any key or string: remove it';
        pending.push([inner, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * A JSON object, kept exactly as sent. zod's record and object types rebuild the value and drop an
 * own `__proto__` key (JSON.parse keeps it as data), after which a registration with that key would
 * pass as identical to one without it; a custom type passes the parsed object through untouched.
 */
const metadataSchema = z
  .custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'must be a JSON object')
  .superRefine((m, ctx) => {
    const problem = metadataProblem(m);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ type: 'object', additionalProperties: {} });

/** POST /api/products body. Unknown fields are refused so a misspelt one never goes unnoticed. */
export const registerProductSchema = z.strictObject({
  data_id: dataIdSchema,
  data_type: z.string().min(1).max(64),
  stage_path: z.string().min(1, 'must name a file or directory under STAGE_ROOT'),
  expected_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
    .transform((s) => s.toLowerCase())
    .nullish(),
  metadata: metadataSchema.optional(),
  auto_publish: z.boolean().optional(),
  derived_from: z.array(dataIdSchema).max(MAX_DERIVED_FROM, `at most ${MAX_DERIVED_FROM} inputs`).optional(),
  supersedes: dataIdSchema
    .optional()
    .describe('data_id of the earlier product this one corrects (published, retracted, failed or discarded, and not yet superseded)'),
});
export type RegisterProductBody = z.infer<typeof registerProductSchema>;

/**
 * POST /api/products/batch body: the envelope only. Each product is validated on its own with
 * registerProductSchema, so one malformed product is refused alone; REGISTER_BATCH_MAX bounds the
 * count (checked by the route, as it is configuration).
 */
export const registerBatchSchema = z.strictObject({
  products: z.array(z.unknown()).min(1, 'must list at least one product'),
});

/** The batch body as documented: the envelope with each product's own schema. */
export const registerBatchDocumentedSchema = registerBatchSchema.extend({ products: z.array(registerProductSchema).min(1) });

/** GET /api/products query. */
export const listProductsQuerySchema = z.strictObject({
  status: z.enum(PRODUCT_STATUSES).optional(),
  data_type: z.string().min(1).max(64).refine((s) => !s.includes('\0'), 'must not contain a NUL character').optional(),
  created_since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  created_until: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  cursor: z.string().min(1).max(200).optional(),
  limit: queryInt(1, MAX_PAGE_SIZE).default(50),
});
export type ListProductsQuery = z.infer<typeof listProductsQuerySchema>;

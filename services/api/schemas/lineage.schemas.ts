import { z } from 'zod';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';
import { queryInt } from './common.schemas';

/** Largest page of GET /api/search/products. */
export const MAX_SEARCH_PAGE = 1000;

/** GET /api/products/{data_id}/ancestors and …/descendants query. */
export const lineageQuerySchema = z.strictObject({
  depth: queryInt(1, 50).default(10),
  limit: queryInt(1, 10_000).default(1000),
});

const degrees = (min: number, max: number) => z.coerce.number().min(min).max(max);

/** GET /api/search/products query: a time range and/or a cone (ra, dec and radius together). */
export const searchProductsQuerySchema = z
  .strictObject({
    obs_since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
    obs_until: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
    ra: degrees(0, 360).optional(),
    dec: degrees(-90, 90).optional(),
    radius: z.coerce.number().gt(0).max(180).optional(),
    status: z.enum(PRODUCT_STATUSES).optional(),
    data_type: z.string().min(1).max(64).refine((s) => !s.includes('\0'), 'must not contain a NUL character').optional(),
    cursor: z.string().min(1).max(300).optional(),
    limit: queryInt(1, MAX_SEARCH_PAGE).default(100),
  })
  .superRefine((q, ctx) => {
    const given = [q.ra, q.dec, q.radius].filter((v) => v !== undefined).length;
    if (given !== 0 && given !== 3) ctx.addIssue({ code: 'custom', path: ['radius'], message: 'a cone needs ra, dec and radius (degrees) together' });
  });

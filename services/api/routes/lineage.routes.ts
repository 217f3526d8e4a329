import { Router } from 'express';
import { getLineage } from '../../core/domain/products/get-lineage';
import { searchProducts } from '../../core/domain/products/search-products';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import { requireScope } from '../middleware/require-scope';
import { dataIdParamsSchema } from '../schemas/common.schemas';
import { lineageQuerySchema, searchProductsQuerySchema } from '../schemas/lineage.schemas';
import type { LineageResponse, SearchPageResponse } from '../schemas/lineage.responses';

/** GET /api/products/{data_id}/ancestors|descendants: the lineage graph walked either way. */
export function lineageRoutes(deps: Pick<RegistryDeps, 'pool'>): Router {
  const router = Router();
  for (const direction of ['ancestors', 'descendants'] as const) {
    router.get(`/:data_id/${direction}`, requireScope('read'), async (req, res) => {
      const { data_id } = dataIdParamsSchema.parse(req.params);
      const q = lineageQuerySchema.parse(req.query);
      const found = await getLineage(deps, { data_id, direction, ...q });
      res.json({ data_id, direction, ...found } satisfies LineageResponse);
    });
  }
  return router;
}

/** GET /api/search/products: by observation time range and cone, in observation order. */
export function searchRoutes(deps: Pick<RegistryDeps, 'pool'>): Router {
  const router = Router();
  router.get('/products', requireScope('read'), async (req, res) => {
    const q = searchProductsQuerySchema.parse(req.query);
    const cone = q.ra !== undefined && q.dec !== undefined && q.radius !== undefined ? { ra: q.ra, dec: q.dec, radius: q.radius } : undefined;
    const page = await searchProducts(deps, { ...q, cone });
    res.json({
      products: page.products.map((p) => ({
        data_id: p.data_id, data_type: p.data_type, status: p.status, published_path: p.published_path,
        obs_start: p.obs_start.toISOString(), obs_end: p.obs_end?.toISOString() ?? null, ra_deg: p.ra_deg, dec_deg: p.dec_deg, freq_hz: p.freq_hz, distance_deg: p.distance_deg,
      })),
      next_cursor: page.next_cursor,
    } satisfies SearchPageResponse);
  });
  return router;
}

import { Router } from 'express';
import { buildReconcileReport, type ReconcileDeps } from '../../core/domain/publishing/reconcile';
import { requireScope } from '../middleware/require-scope';
import { reconcileQuerySchema } from '../schemas/monitoring.schemas';

/**
 * GET /api/monitoring/publish/reconcile (admin): the drift report between registry, queue and
 * both data roots. Mount at /api/monitoring/publish.
 */
export function reconcileRoutes(deps: ReconcileDeps): Router {
  const router = Router();
  router.get('/reconcile', requireScope('admin'), async (req, res) => {
    const { limit } = reconcileQuerySchema.parse(req.query);
    res.json(await buildReconcileReport(deps, { limit }));
  });
  return router;
}

import { Router } from 'express';
import { listFailed } from '../../core/domain/monitoring/list-failed';
import { getPublishStatus } from '../../core/domain/monitoring/publish-status';
import { retryAll } from '../../core/domain/monitoring/retry-all';
import { retryProduct } from '../../core/domain/monitoring/retry-product';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import type { Metrics } from '../../core/metrics/create-metrics';
import { requireScope } from '../middleware/require-scope';
import { dataIdParamsSchema } from '../schemas/common.schemas';
import { listFailedQuerySchema, retryAllQuerySchema, retryQuerySchema } from '../schemas/monitoring.schemas';

/**
 * /api/monitoring/publish: registry-wide figures, the failed list, and operator retries.
 * `requestTimeoutMs` bounds ?wait so the reply always beats the request timeout.
 */
export function monitoringRoutes(deps: RegistryDeps & { requestTimeoutMs: number; metrics?: Pick<Metrics, 'retries'> }): Router {
  const router = Router();

  router.get('/publish/status', requireScope('read'), async (_req, res) => {
    res.json(await getPublishStatus(deps));
  });

  router.get('/publish/failed', requireScope('read'), async (req, res) => {
    const q = listFailedQuerySchema.parse(req.query);
    res.json(await listFailed(deps, { maxAttempts: q.max_attempts, limit: q.limit }));
  });

  router.post('/publish/retry/:data_id', requireScope('admin'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    const { wait } = retryQuerySchema.parse(req.query);
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const waitSeconds = Math.min(wait ?? 0, Math.max(0, deps.requestTimeoutMs / 1000 - 1));
    const result = await retryProduct(deps, data_id, { waitSeconds, signal: gone.signal });
    if (result.retried) deps.metrics?.retries.inc({ trigger: 'operator' });
    res.json(result);
  });

  router.post('/publish/retry-all', requireScope('admin'), async (req, res) => {
    const q = retryAllQuerySchema.parse(req.query);
    const result = await retryAll(deps, { maxAttempts: q.max_attempts, limit: q.limit });
    if (result.successful > 0) deps.metrics?.retries.inc({ trigger: 'operator' }, result.successful);
    res.json(result);
  });

  return router;
}

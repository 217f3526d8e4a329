import { Router } from 'express';
import { listFailed } from '../../core/domain/monitoring/list-failed';
import { getPublishStatus } from '../../core/domain/monitoring/publish-status';
import { discardProducts } from '../../core/domain/lifecycle/discard-products';
import { retryProducts } from '../../core/domain/lifecycle/retry-products';
import { listManifests } from '../../core/domain/products/list-manifests';
import { retryProduct } from '../../core/domain/monitoring/retry-product';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import type { Metrics } from '../../core/metrics/create-metrics';
import { requireScope } from '../middleware/require-scope';
import { dataIdParamsSchema } from '../schemas/common.schemas';
import { discardAllBodySchema, discardAllQuerySchema, manifestsQuerySchema, retryAllQuerySchema, toSelection } from '../schemas/lifecycle.schemas';
import { listFailedQuerySchema, retryQuerySchema } from '../schemas/monitoring.schemas';
import { actorOf } from './lifecycle.routes';

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
    res.json(await listFailed(deps, toSelection(q)));
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
    const result = await retryProducts(deps, { selection: toSelection(q), actor: actorOf(req), dryRun: q.dry_run });
    if (result.done > 0) deps.metrics?.retries.inc({ trigger: 'operator' }, result.done);
    // total_attempted / successful / failed and results[].success: the shape callers had before the filters.
    res.json({
      ...result,
      total_attempted: result.done + result.errors,
      successful: result.done,
      failed: result.errors,
      results: result.results.map((r) => ({ ...r, success: r.outcome === 'done' })),
    });
  });

  router.post('/publish/discard-all', requireScope('admin'), async (req, res) => {
    const q = discardAllQuerySchema.parse(req.query);
    const body = discardAllBodySchema.parse(req.body ?? {});
    res.json(await discardProducts(deps, {
      state: q.state, selection: toSelection(q), actor: actorOf(req), reason: body.reason, removeSource: body.remove_source, dryRun: q.dry_run,
    }));
  });

  router.get('/publish/manifests', requireScope('read'), async (req, res) => {
    res.json(await listManifests(deps, manifestsQuerySchema.parse(req.query)));
  });

  return router;
}

import os from 'node:os';
import { Router } from 'express';
import type { Config } from '../../core/config';
import { diskUsage, memoryUsage } from '../../core/system/system-stats';
import type { SystemMetricsResponse } from '../schemas/health.responses';

/** GET /api/metrics/system (read scope): host CPU, memory and disk use of both data roots. */
export function systemMetricsRouter(deps: { config: Pick<Config, 'paths'>; cpu: () => Promise<number> }): Router {
  const router = Router();
  router.get('/system', async (_req, res) => {
    const [cpu, stage, products] = await Promise.all([
      deps.cpu(),
      diskUsage(deps.config.paths.stageRoot),
      diskUsage(deps.config.paths.productsRoot),
    ]);
    res.json({
      timestamp: new Date().toISOString(),
      cpu: { percent: cpu, cores: os.availableParallelism(), load_average: os.loadavg() },
      memory: memoryUsage(),
      disks: { stage_root: stage, products_root: products },
    } satisfies SystemMetricsResponse);
  });
  return router;
}

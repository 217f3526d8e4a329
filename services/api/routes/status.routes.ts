import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Config } from '../../core/config';
import { getServiceStatus } from '../../core/domain/monitoring/service-status';
import type { PublishJobData } from '../../core/jobs/publish-queue';
import { requireScope } from '../middleware/require-scope';

/** /api/status: queue depth by state, every live worker (heartbeat, what it copies), and the pauses in force. */
export function statusRoutes(deps: { queue: Queue<PublishJobData>; redis: Redis; pool: Pool; config: Pick<Config, 'redis'> }): Router {
  const router = Router();
  router.get('/', requireScope('read'), async (_req, res) => {
    res.json(await getServiceStatus(deps));
  });
  return router;
}

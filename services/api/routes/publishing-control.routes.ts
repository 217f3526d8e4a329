import { Router } from 'express';
import { getBandwidthLimit } from '../../core/domain/lifecycle/get-bandwidth-limit';
import { pausePublishing } from '../../core/domain/lifecycle/pause-publishing';
import { resumePublishing } from '../../core/domain/lifecycle/resume-publishing';
import { setBandwidthLimit } from '../../core/domain/lifecycle/set-bandwidth-limit';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import { listPauses } from '../../core/repositories/publishing-control.repository';
import { requireScope } from '../middleware/require-scope';
import { bandwidthBodySchema, pauseBodySchema, resumeBodySchema } from '../schemas/lifecycle.schemas';
import { actorOf } from './lifecycle.routes';

/** /api/publishing: pause and resume (whole service or one data type) and the run-time bandwidth limit. */
export function publishingControlRoutes(deps: RegistryDeps): Router {
  const router = Router();
  const envLimit = deps.config.publish.maxBytesPerSec;

  router.get('/controls', requireScope('read'), async (_req, res) => {
    const [paused, bandwidth] = await Promise.all([listPauses(deps.pool), getBandwidthLimit(deps.pool, envLimit)]);
    res.json({ paused, bandwidth });
  });

  router.post('/pause', requireScope('admin'), async (req, res) => {
    const body = pauseBodySchema.parse(req.body ?? {});
    res.json(await pausePublishing(deps, { dataType: body.data_type, actor: actorOf(req), reason: body.reason }));
  });

  router.post('/resume', requireScope('admin'), async (req, res) => {
    const body = resumeBodySchema.parse(req.body ?? {});
    res.json(await resumePublishing(deps, { dataType: body.data_type, actor: actorOf(req), reason: body.reason }));
  });

  router.put('/bandwidth', requireScope('admin'), async (req, res) => {
    const body = bandwidthBodySchema.parse(req.body ?? {});
    res.json(await setBandwidthLimit(deps.pool, { maxBytesPerSec: body.max_bytes_per_sec, actor: actorOf(req), reason: body.reason }, envLimit));
  });

  return router;
}

import { Router, type Request } from 'express';
import { amendProduct } from '../../core/domain/lifecycle/amend-product';
import { discardProduct } from '../../core/domain/lifecycle/discard-product';
import { holdProduct } from '../../core/domain/lifecycle/hold-product';
import { releaseProduct } from '../../core/domain/lifecycle/release-product';
import { retractProduct } from '../../core/domain/lifecycle/retract-product';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import { requireScope } from '../middleware/require-scope';
import { dataIdParamsSchema } from '../schemas/common.schemas';
import { amendBodySchema, discardBodySchema, holdBodySchema, retractBodySchema } from '../schemas/lifecycle.schemas';

/** The token name that asked, kept in the event as the actor. */
export function actorOf(req: Request): string {
  return req.auth?.name ?? 'unknown';
}

/**
 * /api/products/{data_id}/{discard,amend,retract,hold,release}: the operator verbs on one product
 * (admin). Each is one transition with its event; a state the verb does not accept is 409
 * invalid_state naming the state.
 */
export function lifecycleRoutes(deps: RegistryDeps): Router {
  const router = Router();

  router.post('/:data_id/discard', requireScope('admin'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    const body = discardBodySchema.parse(req.body ?? {});
    res.json(await discardProduct(deps, { dataId: data_id, actor: actorOf(req), reason: body.reason, removeSource: body.remove_source }));
  });

  router.post('/:data_id/amend', requireScope('admin'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    const body = amendBodySchema.parse(req.body ?? {});
    res.json(await amendProduct(deps, { dataId: data_id, actor: actorOf(req), reason: body.reason, expectedSha256: body.expected_sha256, metadata: body.metadata }));
  });

  router.post('/:data_id/retract', requireScope('admin'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    const body = retractBodySchema.parse(req.body ?? {});
    res.json(await retractProduct(deps, { dataId: data_id, actor: actorOf(req), reason: body.reason }));
  });

  router.post('/:data_id/hold', requireScope('admin'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    const body = holdBodySchema.parse(req.body ?? {});
    res.json(await holdProduct(deps, { dataId: data_id, actor: actorOf(req), reason: body.reason }));
  });

  router.post('/:data_id/release', requireScope('admin'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    const body = holdBodySchema.parse(req.body ?? {});
    res.json(await releaseProduct(deps, { dataId: data_id, actor: actorOf(req), reason: body.reason }));
  });

  return router;
}

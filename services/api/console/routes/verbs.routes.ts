import { Router, type Request } from 'express';
import { amendProduct } from '../../../core/domain/lifecycle/amend-product';
import { discardProduct } from '../../../core/domain/lifecycle/discard-product';
import { holdProduct } from '../../../core/domain/lifecycle/hold-product';
import { pausePublishing } from '../../../core/domain/lifecycle/pause-publishing';
import { releaseProduct } from '../../../core/domain/lifecycle/release-product';
import { resumePublishing } from '../../../core/domain/lifecycle/resume-publishing';
import { retractProduct } from '../../../core/domain/lifecycle/retract-product';
import { retryProduct } from '../../../core/domain/monitoring/retry-product';
import { ValidationError } from '../../../core/errors';
import { ALL_TYPES } from '../../../core/repositories/publishing-control.repository';
import { amendForm, discardForm, optionalReasonForm, pauseForm, reasonForm } from '../console.schemas';
import type { ConsoleDeps } from '../console-deps';
import { consoleScope } from '../guards';
import { BASE } from '../views/layout.view';

/** The operator named in each verb's event: the signed-in token's name, as the API records it. */
function actor(req: Request): string {
  return req.consoleUser!.name;
}

/**
 * The operator verbs on one product, and pause/resume: each a POST (CSRF-checked upstream) that
 * needs the admin scope, calls the same domain function as the API, and answers 303 back to the page.
 */
export function verbsRoutes(deps: ConsoleDeps): Router {
  const router = Router();
  const admin = consoleScope('admin');
  const back = (dataId: string) => `${BASE}/products/${encodeURIComponent(dataId)}`;

  router.post('/products/:dataId/retry', admin, async (req, res) => {
    const dataId = String(req.params.dataId);
    const result = await retryProduct(deps, dataId);
    if (result.retried) deps.metrics.retries.inc({ trigger: 'operator' });
    res.redirect(303, back(dataId));
  });

  router.post('/products/:dataId/release', admin, async (req, res) => {
    const dataId = String(req.params.dataId);
    await releaseProduct(deps, { dataId, actor: actor(req), reason: optionalReasonForm.parse(req.body).reason });
    res.redirect(303, back(dataId));
  });

  router.post('/products/:dataId/hold', admin, async (req, res) => {
    const dataId = String(req.params.dataId);
    await holdProduct(deps, { dataId, actor: actor(req), reason: optionalReasonForm.parse(req.body).reason });
    res.redirect(303, back(dataId));
  });

  router.post('/products/:dataId/amend', admin, async (req, res) => {
    const dataId = String(req.params.dataId);
    const form = amendForm.parse(req.body);
    await amendProduct(deps, { dataId, actor: actor(req), reason: form.reason, expectedSha256: form.expected_sha256 });
    res.redirect(303, back(dataId));
  });

  router.post('/products/:dataId/discard', admin, async (req, res) => {
    const dataId = String(req.params.dataId);
    const form = discardForm.parse(req.body);
    await discardProduct(deps, { dataId, actor: actor(req), reason: form.reason, removeSource: form.remove_source === 'true' });
    res.redirect(303, back(dataId));
  });

  router.post('/products/:dataId/retract', admin, async (req, res) => {
    const dataId = String(req.params.dataId);
    await retractProduct(deps, { dataId, actor: actor(req), reason: reasonForm.parse(req.body).reason });
    res.redirect(303, back(dataId));
  });

  router.post('/publishing/pause', admin, async (req, res) => {
    const form = pauseForm.parse(req.body);
    if (!form.reason) throw new ValidationError('validation_error', 'reason: say why publishing is paused (it is shown to everyone)');
    await pausePublishing(deps, { dataType: form.scope === ALL_TYPES ? undefined : form.scope, actor: actor(req), reason: form.reason });
    res.redirect(303, BASE);
  });

  router.post('/publishing/resume', admin, async (req, res) => {
    const form = pauseForm.parse(req.body);
    await resumePublishing(deps, { dataType: form.scope === ALL_TYPES ? undefined : form.scope, actor: actor(req), reason: form.reason });
    res.redirect(303, BASE);
  });

  return router;
}

import { Router, type Request } from 'express';
import type { z } from 'zod';
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

type PauseForm = z.infer<typeof pauseForm>;

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

  /** One verb on one product: admin only, then back to the product's page. */
  const productVerb = (verb: string, run: (dataId: string, req: Request) => Promise<unknown>) => {
    router.post(`/products/:dataId/${verb}`, admin, async (req, res) => {
      const dataId = String(req.params.dataId);
      await run(dataId, req);
      res.redirect(303, back(dataId));
    });
  };
  /** Pause or resume, for every type or one: admin only, then back to the overview. */
  const publishingVerb = (verb: string, run: (form: PauseForm, req: Request) => Promise<unknown>) => {
    router.post(`/publishing/${verb}`, admin, async (req, res) => {
      await run(pauseForm.parse(req.body), req);
      res.redirect(303, BASE);
    });
  };
  const dataType = (form: PauseForm) => (form.scope === ALL_TYPES ? undefined : form.scope);

  productVerb('retry', async (dataId) => {
    const result = await retryProduct(deps, dataId);
    if (result.retried) deps.metrics.retries.inc({ trigger: 'operator' });
  });
  productVerb('release', (dataId, req) => releaseProduct(deps, { dataId, actor: actor(req), reason: optionalReasonForm.parse(req.body).reason }));
  productVerb('hold', (dataId, req) => holdProduct(deps, { dataId, actor: actor(req), reason: optionalReasonForm.parse(req.body).reason }));
  productVerb('amend', (dataId, req) => {
    const form = amendForm.parse(req.body);
    return amendProduct(deps, { dataId, actor: actor(req), reason: form.reason, expectedSha256: form.expected_sha256 });
  });
  productVerb('discard', (dataId, req) => {
    const form = discardForm.parse(req.body);
    return discardProduct(deps, { dataId, actor: actor(req), reason: form.reason, removeSource: form.remove_source === 'true' });
  });
  productVerb('retract', (dataId, req) => retractProduct(deps, { dataId, actor: actor(req), reason: reasonForm.parse(req.body).reason }));

  publishingVerb('pause', (form, req) => {
    if (!form.reason) throw new ValidationError('validation_error', 'reason: say why publishing is paused (it is shown to everyone)');
    return pausePublishing(deps, { dataType: dataType(form), actor: actor(req), reason: form.reason });
  });
  publishingVerb('resume', (form, req) => resumePublishing(deps, { dataType: dataType(form), actor: actor(req), reason: form.reason }));

  return router;
}

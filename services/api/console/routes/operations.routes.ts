import { Router } from 'express';
import { bulkDiscard, bulkRetry, BULK_LIMIT, previewFailedSelection } from '../../../core/domain/console/bulk-actions';
import { searchProducts } from '../../../core/domain/console/search-products';
import { buildReconcileReport } from '../../../core/domain/publishing/reconcile';
import { createToken } from '../../../core/domain/tokens/create-token';
import { listTokens } from '../../../core/domain/tokens/list-tokens';
import { revokeToken } from '../../../core/domain/tokens/revoke-token';
import { listFailureGroups, listHeldProducts } from '../../../core/repositories/product-search.repository';
import type { Scope } from '../../../core/repositories/token.types';
import { createTokenBody, tokenNameParams } from '../../schemas/token.schemas';
import { bulkBody, bulkDiscardBody, createTokenForm, previewQuery } from '../console.schemas';
import type { ConsoleDeps } from '../console-deps';
import { consoleScope } from '../guards';
import { reconcilePage, stateListPage, tokensPage } from '../views/admin.view';
import { bulkResultPage, failuresPage, previewPage } from '../views/failures.view';
import { BASE } from '../views/layout.view';
import { viewContext } from '../views/view-context';

/** Failures (grouped, dry run first, bulk retry or discard), the lists by state, the reconcile report and tokens. */
export function operationsRoutes(deps: ConsoleDeps): Router {
  const router = Router();
  const grafana = deps.config.console.grafanaUrl;

  router.get('/failures', async (req, res) => {
    const [groups, recent] = await Promise.all([listFailureGroups(deps.pool), searchProducts(deps, { status: 'failed', limit: 50 })]);
    res.type('html').send(failuresPage(viewContext(req, grafana), groups, recent.products).value);
  });

  router.get('/failures/preview', consoleScope('admin'), async (req, res) => {
    const q = previewQuery.parse(req.query);
    const rows = await previewFailedSelection(deps, { error_classes: q.error_class, data_ids: q.data_id });
    res.type('html').send(previewPage(viewContext(req, grafana), q.action, rows, BULK_LIMIT).value);
  });

  router.post('/failures/discard', consoleScope('admin'), async (req, res) => {
    const form = bulkDiscardBody.parse(req.body);
    const results = await bulkDiscard(deps, form.data_id, { actor: req.consoleUser!.name, reason: form.reason, removeSource: form.remove_source === 'true' });
    req.log.info('console bulk discard', { requested: form.data_id.length, discarded: results.filter((r) => r.ok).length });
    res.type('html').send(bulkResultPage(viewContext(req, grafana), `Discarded ${results.filter((r) => r.ok).length} of ${results.length}`, results).value);
  });

  router.post('/failures/retry', consoleScope('admin'), async (req, res) => {
    const { data_id } = bulkBody.parse(req.body);
    const results = await bulkRetry(deps, data_id);
    const retried = results.filter((r) => r.ok).length;
    if (retried > 0) deps.metrics.retries.inc({ trigger: 'operator' }, retried);
    req.log.info('console bulk retry', { requested: data_id.length, retried });
    res.type('html').send(bulkResultPage(viewContext(req, grafana), `Retried ${retried} of ${results.length}`, results).value);
  });

  router.get('/held', async (req, res) => {
    res.type('html').send(stateListPage(viewContext(req, grafana), 'held', await listHeldProducts(deps.pool, 200)).value);
  });

  for (const state of ['retracted', 'discarded'] as const) {
    router.get(`/${state}`, async (req, res) => {
      const page = await searchProducts(deps, { status: state, limit: 200 });
      res.type('html').send(stateListPage(viewContext(req, grafana), state, page.products).value);
    });
  }

  router.get('/reconcile', consoleScope('admin'), async (req, res) => {
    res.type('html').send(reconcilePage(viewContext(req, grafana), await buildReconcileReport(deps, { limit: 200 })).value);
  });

  router.get('/tokens', consoleScope('admin'), async (req, res) => {
    res.type('html').send(tokensPage(viewContext(req, grafana), await listTokens({ db: deps.pool })).value);
  });

  router.post('/tokens', consoleScope('admin'), async (req, res) => {
    const form = createTokenForm.parse(req.body);
    const body = createTokenBody.parse({ name: form.name, scopes: form.scopes });
    const created = await createToken({ db: deps.pool }, { name: body.name, scopes: body.scopes as Scope[] });
    req.log.info('token created', { name: created.name, scopes: created.scopes });
    res.status(201).type('html').send(tokensPage(viewContext(req, grafana), await listTokens({ db: deps.pool }), { name: created.name, token: created.token }).value);
  });

  router.post('/tokens/:name/revoke', consoleScope('admin'), async (req, res) => {
    const { name } = tokenNameParams.parse(req.params);
    await revokeToken({ db: deps.pool }, name);
    req.log.info('token revoked', { name });
    res.redirect(303, `${BASE}/tokens`);
  });

  return router;
}

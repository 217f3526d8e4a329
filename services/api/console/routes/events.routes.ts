import { Router } from 'express';
import { NotFoundError } from '../../../core/errors';
import { eventsQuery } from '../console.schemas';
import type { ConsoleDeps } from '../console-deps';
import type { LiveHub } from '../live/live-hub';
import type { LiveData } from '../live/live-topics';
import { overviewLive } from '../views/overview.view';
import { productLive } from '../views/product.view';
import { viewContext } from '../views/view-context';

/** GET /console/events?topic=…: this tab's one Server-Sent Events stream. */
export function eventsRoutes(deps: ConsoleDeps, hub: LiveHub<LiveData>): Router {
  const router = Router();
  router.get('/events', async (req, res) => {
    const { topic, seen } = eventsQuery.parse(req.query);
    // Rendered for this viewer: its scopes decide the verbs, its session the CSRF field.
    const ctx = viewContext(req, deps.config.console.grafanaUrl);
    const opened = await hub.subscribe(req, res, topic, (d) =>
      d.kind === 'overview'
        ? { event: 'overview', html: overviewLive(d.overview).value }
        : { event: 'product', html: productLive(ctx, d.product, d.events, deps.config.console.hostPaths).value }, seen);
    if (!opened) throw new NotFoundError(`no live topic ${topic}`, 'topic_not_found');
  });
  return router;
}

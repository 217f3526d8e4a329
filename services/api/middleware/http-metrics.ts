import type { RequestHandler } from 'express';
import type { Metrics } from '../../core/metrics/create-metrics';
import { routePattern } from './route-pattern';

/**
 * Counts and times every request by method, route pattern (`unmatched` for 404s, never the raw
 * URL, so label sets stay bounded) and status.
 */
export function httpMetrics(metrics: Pick<Metrics, 'httpRequests' | 'httpDuration'>): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const labels = { method: req.method, route: routePattern(req), status: String(res.writableFinished ? res.statusCode : 499) };
      metrics.httpRequests.inc(labels);
      stop(labels);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../core/config';
import type { Logger } from '../core/logging/create-logger';
import type { Metrics } from '../core/metrics/create-metrics';
import { startMetricsServer } from '../core/metrics/metrics-server';

/**
 * Makes this api process's registry scrapeable. A single process serves /metrics itself on
 * METRICS_PORT; a cluster worker instead answers the primary's aggregation requests over IPC
 * (the primary owns METRICS_PORT, see cluster-primary.ts). Returns an idempotent close.
 */
export async function exposeMetrics(config: Config, metrics: Metrics, logger: Logger): Promise<() => Promise<void>> {
  if (cluster.isWorker) {
    AggregatorRegistry.setRegistries([metrics.registry]);
    // Constructing one installs the IPC listener that answers the primary.
    new AggregatorRegistry();
    return async () => undefined;
  }
  const server = await startMetricsServer({
    host: config.metrics.host,
    port: config.metrics.port,
    contentType: metrics.registry.contentType,
    render: () => metrics.registry.metrics(),
    onError: (err) => logger.warn('metrics rendering failed', { err }),
  });
  logger.info('metrics listening', { host: config.metrics.host, port: server.port });
  return () => server.close();
}

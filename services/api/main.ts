import cluster from 'node:cluster';
import { loadConfig } from '../core/config';
import { ConfigError } from '../core/errors';
import { migrate } from '../core/db/migrate';
import { ShutdownRegistry } from '../core/lifecycle/shutdown-registry';
import { createLogger } from '../core/logging/create-logger';
import { registryCollector } from '../core/metrics/registry-collector';
import { runPrimary } from './cluster-primary';
import { exposeMetrics } from './metrics-exposure';
import { closeApiDeps, createApiDeps } from './api-deps';
import { createApp } from './app';
import { closeConsoleStreams } from './console/console.router';
import { boundPort, drainServer, listen } from './http-server';

/** The api process: configuration → migrations (under node-pg-migrate's advisory lock) → connections → listen. */
async function main(): Promise<void> {
  const config = loadConfig('api');
  const logger = createLogger({ service: 'ferry-api', level: config.log.level });
  // Replicas may start together: the advisory lock makes one apply and the others find nothing to do.
  // A cluster worker skips it: its primary migrated before forking, and a worker restarted during a
  // PostgreSQL outage must still come up (ready answers 503 until the database is back).
  if (!cluster.isWorker) {
    const applied = await migrate({ databaseUrl: config.database.url, log: (msg) => logger.debug(msg) });
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  }
  // API_WORKERS > 1: this process becomes the cluster primary (forks, restarts, owns /metrics).
  if (cluster.isPrimary && config.http.workers > 1) {
    await runPrimary(config, logger);
    return;
  }

  const deps = createApiDeps(config, logger);
  deps.metrics.setCollector(
    registryCollector(deps.metrics, { db: deps.pool, queue: deps.queue, productTypes: config.products.types, maxAttempts: config.publish.maxAttempts }),
  );
  const closeMetrics = await exposeMetrics(config, deps.metrics, logger);
  const app = createApp(deps);
  const server = await listen(app, { host: config.http.host, port: config.http.port, requestTimeoutMs: config.http.requestTimeoutMs });
  logger.info('api listening', { host: config.http.host, port: boundPort(server), version: config.version });

  const shutdown = new ShutdownRegistry({
    forceAfterMs: config.shutdown.graceMs + 2000,
    onStepError: (name, err) => logger.error('shutdown step failed', { step: name, err }),
  });
  // Event streams never finish by themselves: end them first so draining waits only for real requests.
  shutdown.add('end console event streams', () => closeConsoleStreams(app));
  shutdown.add('stop accepting and drain requests', async () => {
    if (!(await drainServer(server, config.shutdown.graceMs))) logger.warn('requests still open after the grace period were cut');
  });
  shutdown.add('close the metrics listener', closeMetrics);
  shutdown.add('close queue, Redis and PostgreSQL', () => closeApiDeps(deps));
  shutdown.add('flush logs', () => new Promise<void>((resolve) => {
    logger.once('finish', () => resolve());
    logger.end();
  }));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('shutting down', { signal });
      void shutdown.run().then((ok) => process.exit(ok ? (process.exitCode ?? 0) : 1));
    });
  }
  // A cluster worker whose primary died has nobody to restart or scrape it: shut down cleanly.
  if (cluster.isWorker) process.once('disconnect', () => void shutdown.run().then((ok) => process.exit(ok ? 0 : 1)));
}

main().catch((err: unknown) => {
  // Before a logger exists (bad configuration), plain stderr is the only channel.
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`ferry-api failed to start: ${message}\n`);
  process.exit(1);
});

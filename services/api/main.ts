import cluster from 'node:cluster';
import { migrate } from '../core/db/migrate';
import { runProcess } from '../core/lifecycle/run-process';
import { registryCollector } from '../core/metrics/registry-collector';
import { runPrimary } from './cluster-primary';
import { exposeMetrics } from './metrics-exposure';
import { closeApiDeps, createApiDeps } from './api-deps';
import { createApp } from './app';
import { closeConsoleStreams } from './console/console.router';
import { boundPort, drainServer, listen } from './http-server';

/**
 * How long an api starting while another process migrates waits for the migration lock. Past it
 * the api exits 1 and its supervisor (compose, Kubernetes) starts it again.
 */
const MIGRATION_LOCK_WAIT_MS = 10 * 60_000;

/** Whether this process is the cluster primary of API_WORKERS > 1 workers. */
const isClusterPrimary = (workers: number) => cluster.isPrimary && workers > 1;

/** The api process: configuration → migrations (under node-pg-migrate's advisory lock) → connections → listen. */
void runProcess({
  service: 'ferry-api',
  role: 'api',
  // The primary lets its workers drain for the grace period and kills a hung one 5 s later.
  forceAfterMs: (config) => config.shutdown.graceMs + (isClusterPrimary(config.http.workers) ? 8000 : 2000),
  build: async ({ config, logger, shutdown, stop }) => {
    // Replicas may start together: the advisory lock makes one apply while the others wait for it,
    // then find nothing to do.
    // A cluster worker skips it: its primary migrated before forking, and a worker restarted during a
    // PostgreSQL outage must still come up (ready answers 503 until the database is back).
    if (!cluster.isWorker) {
      const applied = await migrate({
        databaseUrl: config.database.url,
        log: (msg) => logger.debug(msg),
        lockWaitMs: MIGRATION_LOCK_WAIT_MS,
        onLockTaken: (waitedMs) => logger.warn('another process holds the migration lock: waiting for it', {
          waited_seconds: Math.round(waitedMs / 1000), limit_seconds: MIGRATION_LOCK_WAIT_MS / 1000,
        }),
      });
      if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
    }
    // API_WORKERS > 1: this process becomes the cluster primary (forks, restarts, owns /metrics).
    if (isClusterPrimary(config.http.workers)) {
      await runPrimary(config, logger, shutdown);
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

    // Event streams never finish by themselves: end them first so draining waits only for real requests.
    shutdown.add('end console event streams', () => closeConsoleStreams(app));
    shutdown.add('stop accepting and drain requests', async () => {
      if (!(await drainServer(server, config.shutdown.graceMs))) logger.warn('requests still open after the grace period were cut');
    });
    shutdown.add('close the metrics listener', closeMetrics);
    shutdown.add('close queue, Redis and PostgreSQL', () => closeApiDeps(deps));
    // A cluster worker whose primary died has nobody to restart or scrape it: shut down cleanly.
    if (cluster.isWorker) process.once('disconnect', () => stop('disconnect'));
  },
});

import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../core/config';
import type { ShutdownRegistry } from '../core/lifecycle/shutdown-registry';
import type { Logger } from '../core/logging/create-logger';
import { startMetricsServer, type MetricsServer } from '../core/metrics/metrics-server';

/** Restart delay after a crash: doubles per crash in a row, capped; a worker that lived a minute resets it. */
const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30000;
const STABLE_AFTER_MS = 60000;

/**
 * The cluster primary (API_WORKERS > 1), like gunicorn's arbiter: forks the workers, restarts a
 * crashed one with backoff, and on shutdown (SIGTERM/SIGINT, wired by run-process) forwards
 * SIGTERM, waits for every worker to finish its in-flight requests, and exits 0 (1 when a hung
 * worker had to be killed). Each worker keeps its own prom-client registry; the
 * primary serves /metrics on METRICS_PORT by aggregating them (AggregatorRegistry): counters and
 * histograms summed, registry-wide gauges taken once.
 */
export async function runPrimary(config: Config, logger: Logger, shutdown: ShutdownRegistry): Promise<void> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let crashesInARow = 0;
  const startedAt = new Map<number, number>();

  // The workers accept connections themselves from the shared listening socket. Node's default
  // on Linux (round robin) has the primary accept each one and hand it over: nginx opens a
  // connection per request, so that cost every request a trip through this process: on 2 cores
  // two round-robin workers served 11-19 % less than one process, two self-accepting workers as
  // much as one (docs/performance.md). Set before the first fork, which freezes it.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    if (stopping) return;
    crashesInARow = lived >= STABLE_AFTER_MS ? 1 : crashesInARow + 1;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (crashesInARow - 1));
    logger.error('api worker exited; restarting', { worker_pid: worker.process.pid, code, signal, restart_in_ms: delay });
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  const metrics: MetricsServer = await startMetricsServer({
    host: config.metrics.host,
    port: config.metrics.port,
    contentType: aggregator.contentType,
    render: () => aggregator.clusterMetrics(),
    onError: (err) => logger.warn('metrics aggregation failed', { err }),
  });
  logger.info('metrics listening', { host: config.metrics.host, port: metrics.port });

  for (let i = 0; i < config.http.workers; i++) fork();
  logger.info('api primary started', { workers: config.http.workers, pid: process.pid });

  shutdown.add('stop the api workers', async () => {
    stopping = true;
    logger.info('api primary stopping');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    for (const w of workers) w.process.kill('SIGTERM');
    // Workers enforce SHUTDOWN_GRACE_SECONDS themselves; this only guards against a hung one.
    let forced = false;
    const force = setTimeout(() => {
      forced = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    }, config.shutdown.graceMs + 5000);
    force.unref();
    const waitAll = Promise.all(workers.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((resolve) => w.once('exit', () => resolve())))));
    await waitAll;
    clearTimeout(force);
    logger.info('api primary stopped', { forced });
    if (forced) throw new Error('a hung api worker was killed');
  });
  shutdown.add('close the metrics listener', () => metrics.close());
}

import { Worker, type Job, type Queue } from 'bullmq';
import IORedis from 'ioredis';
import type { Config } from '../core/config';
import { createPool } from '../core/db/pool';
import { workerHeartbeatKey, workerInfoKey } from '../core/jobs/heartbeat-key';
import { createPublishQueue, enqueuePublish, PUBLISH_JOB, PUBLISH_QUEUE, publishJobId, type PublishJobData } from '../core/jobs/publish-queue';
import { queuedPublishJobs } from '../core/jobs/missing-publish-jobs';
import { ShutdownRegistry } from '../core/lifecycle/shutdown-registry';
import type { Logger } from '../core/logging/create-logger';
import { createMetrics, zeroPublishCounters, type Metrics } from '../core/metrics/create-metrics';
import { startMetricsServer } from '../core/metrics/metrics-server';
import { registryCollector } from '../core/metrics/registry-collector';
import { version } from '../core/version';
import { BandwidthLimiter } from './bandwidth-limiter';
import { Heartbeat } from './heartbeat';
import { PublishControls } from './publish-controls';
import { PublishProgress } from './publish-progress';
import { stopOnesSumThread } from '../core/product-types/fits/ones-sum-thread';
import { stopFileThreads } from '../core/publish/file-threads';
import { createPublishProcessor, type Processor } from './processors/publish.processor';
import { Reconciler } from './reconciler';
import { fileTestHook } from './test-hook';
import { assertProcessorsFor, checkDataRootMarkers, checkRedisEvictionPolicy } from './startup-checks';

/** Every job name the publish queue carries; start-up fails if one has no processor. */
const JOB_NAMES = [PUBLISH_JOB] as const;

/** A running worker process's parts; shutdown() is the ordered, idempotent stop. */
export interface WorkerRuntime {
  worker: Worker<PublishJobData>;
  queue: Queue<PublishJobData>;
  reconciler: Reconciler;
  heartbeat: Heartbeat;
  metrics: Metrics;
  metricsPort: number;
  shutdown(): Promise<boolean>;
}

/**
 * Builds and starts everything the worker runs: start-up checks, the BullMQ worker, reconciler,
 * heartbeat and metrics listener, plus the ordered shutdown (stop claiming, let the copy in hand
 * finish within SHUTDOWN_GRACE_SECONDS or abort it and release its lease, close the rest).
 * main.ts passes the process's shutdown registry (run-process wires the signals); tests call shutdown() directly.
 */
export async function startWorker(
  config: Config,
  logger: Logger,
  opts: { exit?: (code: number) => void; shutdown?: ShutdownRegistry } = {},
): Promise<WorkerRuntime> {
  await checkDataRootMarkers(config.paths);

  const metrics = createMetrics('worker', version);
  zeroPublishCounters(metrics, config.products.types);
  const pool = createPool(config, (err) => logger.warn('idle PostgreSQL client error', { err }));
  // BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait out a Redis restart).
  const redis = new IORedis(config.redis.url, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn('Redis connection error', { err }));
  await checkRedisEvictionPolicy(redis, logger);
  const queue = createPublishQueue(redis, config.redis.prefix);
  queue.on('error', (err) => logger.warn('queue error', { err }));

  const publishing = { pool, config };
  const stopping = new AbortController();
  const graceExpired = new AbortController();
  const limiter = new BandwidthLimiter(config.publish.maxBytesPerSec);
  const progress = new PublishProgress();
  const controls = new PublishControls({ pool, limiter, metrics, logger, envLimit: config.publish.maxBytesPerSec, intervalSeconds: config.publish.controlRefreshSeconds });
  const processors: Record<string, Processor> = {
    [PUBLISH_JOB]: createPublishProcessor({
      publishing, metrics, logger, shutdownSignal: graceExpired.signal, isStopping: () => stopping.signal.aborted, limiter, progress,
      testHook: config.publish.testHookDir ? fileTestHook(config.publish.testHookDir) : undefined,
      forgetJobs: async (dataIds) => {
        // Most products of a batch have no job of their own (publish-dispatch.ts): one round trip
        // finds the jobs there are, instead of a removal script run for every member.
        await Promise.all((await queuedPublishJobs(queue, dataIds)).map((id) => queue.remove(publishJobId(id))));
      },
      requeue: async (dataId, delayMs) => {
        await enqueuePublish(queue, dataId, delayMs);
      },
    }),
  };
  assertProcessorsFor(JOB_NAMES, processors);

  const leaseMs = config.publish.leaseSeconds * 1000;
  const worker = new Worker<PublishJobData>(
    PUBLISH_QUEUE,
    async (job: Job<PublishJobData>, token?: string) => {
      const processor = processors[job.name];
      if (!processor) throw new Error(`no processor for job name ${job.name}`);
      return processor(job, token);
    },
    {
      connection: redis,
      prefix: config.redis.prefix,
      concurrency: config.publish.concurrency,
      autorun: false,
      // The BullMQ lock lives as long as a lease: a killed worker's job comes back about when its lease expires.
      lockDuration: leaseMs,
      stalledInterval: Math.max(1000, Math.round(leaseMs / 2)),
      maxStalledCount: 5,
    },
  );
  worker.on('error', (err) => logger.error('worker error', { err }));
  worker.on('failed', (job, err) => logger.debug('job failed', { job_id: job?.id, err }));
  worker.on('stalled', (jobId) => logger.warn('job stalled (its worker died or blocked); BullMQ re-queued it', { job_id: jobId }));

  const collectRegistry = registryCollector(metrics, { db: pool, queue, productTypes: config.products.types, maxAttempts: config.publish.maxAttempts });
  metrics.setCollector(async () => {
    controls.exportProgress(progress.snapshot());
    await collectRegistry();
  });
  const metricsServer = await startMetricsServer({
    host: config.metrics.host,
    port: config.metrics.port,
    render: () => metrics.registry.metrics(),
    contentType: metrics.registry.contentType,
    onError: (err) => logger.warn('metrics render failed', { err }),
  });

  const heartbeat = new Heartbeat({
    file: config.heartbeat.file, redis, key: workerHeartbeatKey(config.redis.prefix, config.instance),
    intervalSeconds: config.heartbeat.intervalSeconds, staleSeconds: config.heartbeat.staleSeconds, metrics, logger,
    infoKey: workerInfoKey(config.redis.prefix, config.instance),
    info: () => ({ copies: progress.snapshot(), bandwidth_limit_bytes_per_sec: limiter.rate, concurrency: config.publish.concurrency }),
  });
  const reconciler = new Reconciler({ publishing, queue, metrics, logger, intervalSeconds: config.publish.reconcileIntervalSeconds });

  const shutdown = opts.shutdown ?? new ShutdownRegistry({
    // Copies get SHUTDOWN_GRACE_SECONDS; cleanup and closing get 5 s more before a forced exit.
    forceAfterMs: config.shutdown.graceMs + 5000,
    onStepError: (name, err) => logger.error('shutdown step failed', { step: name, err }),
    exit: opts.exit,
  });
  let graceTimer: NodeJS.Timeout | undefined;
  shutdown.add('stop claiming', async () => {
    stopping.abort();
    graceTimer = setTimeout(() => graceExpired.abort(), config.shutdown.graceMs);
    await reconciler.stop();
  });
  shutdown.add('drain publishes', async () => {
    await worker.close();
    clearTimeout(graceTimer);
  });
  shutdown.add('stop checksum thread', () => stopOnesSumThread());
  shutdown.add('stop file threads', () => stopFileThreads());
  shutdown.add('stop heartbeat', () => heartbeat.stop());
  shutdown.add('stop control refresh', () => controls.stop());
  shutdown.add('close metrics listener', () => metricsServer.close());
  shutdown.add('close queue', () => queue.close());
  shutdown.add('close Redis', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  shutdown.add('end PostgreSQL pool', () => pool.end());

  await controls.refresh();
  controls.start();
  heartbeat.start();
  reconciler.start();
  void worker.run().catch((err) => logger.error('worker loop stopped', { err }));
  logger.info('worker started', {
    instance: config.instance, version, concurrency: config.publish.concurrency, mode: config.publish.mode,
    metrics_port: metricsServer.port, products_root: config.paths.productsRoot, stage_root: config.paths.stageRoot,
  });
  return { worker, queue, reconciler, heartbeat, metrics, metricsPort: metricsServer.port, shutdown: () => shutdown.run() };
}


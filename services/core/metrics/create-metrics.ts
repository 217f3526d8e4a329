import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PUBLISH_ERROR_CLASSES } from '../errors/publish-error';

/** Byte-size buckets from 64 KiB to 64 GiB. */
const SIZE_BUCKETS = [65536, 1048576, 16777216, 134217728, 1073741824, 8589934592, 68719476736];
/** Publish durations from 10 ms to 1 h. */
const PUBLISH_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Every metric Ferry exports, on one registry per process. Labels come from bounded sets only:
 * route pattern, method, status, data_type (the PRODUCT_TYPES allow-list), error class, queue state.
 * Registry-wide gauges are filled by collectors the process registers with setCollector().
 */
export function createMetrics(role: 'api' | 'worker', version: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: `ferry-${role}` });
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total break Prometheus naming (promtool check metrics); the per-type
  // nodejs_active_handles / _requests / _resources gauges carry the same figures.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  const r = [registry];

  // One refresh per scrape: every registry-wide gauge awaits the same in-flight collector run.
  let collector: (() => Promise<void>) | undefined;
  let inflight: Promise<void> | undefined;
  const collectErrors = new Counter({
    name: 'ferry_metrics_collect_errors_total', help: 'Scrapes whose registry-wide figures could not be refreshed (values kept from the last good scrape).',
    // Awaits the same refresh, so a failure shows in the scrape that saw it.
    registers: r, collect: () => refresh(),
  });
  const refresh = async (): Promise<void> => {
    if (!collector) return;
    inflight ??= collector()
      .catch(() => collectErrors.inc())
      .finally(() => { inflight = undefined; });
    await inflight;
  };
  // Registry-wide figures are the same in every process: under cluster aggregation take one, never the sum.
  const shared = { registers: r, aggregator: 'max' as const, collect: refresh };

  new Gauge({ name: 'ferry_build_info', help: 'Build information; always 1.', labelNames: ['version', 'role'], registers: r, aggregator: 'first' })
    .set({ version, role }, 1);

  return {
    registry,
    collectErrors,
    /** Sets the function that refreshes the registry-wide gauges at scrape time (cheap queries only). */
    setCollector(fn: (() => Promise<void>) | undefined): void {
      collector = fn;
    },
    httpRequests: new Counter({
      name: 'http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'], registers: r,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds', help: 'HTTP request duration, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: r,
    }),
    products: new Gauge({
      name: 'ferry_products', help: 'Products in the registry, by status and data type.',
      labelNames: ['status', 'data_type'], ...shared,
    }),
    oldestStagedAge: new Gauge({
      name: 'ferry_oldest_staged_product_age_seconds', help: 'Age of the oldest product waiting in staging (0 when none).', ...shared,
    }),
    maxAttemptsExceeded: new Gauge({
      name: 'ferry_products_max_attempts_exceeded', help: 'Failed products that used up PUBLISH_MAX_ATTEMPTS.', ...shared,
    }),
    queueJobs: new Gauge({
      name: 'ferry_queue_jobs', help: 'Jobs in the publish queue, by state.', labelNames: ['state'], ...shared,
    }),
    publishesCompleted: new Counter({
      name: 'ferry_publishes_completed_total', help: 'Products published, by data type.', labelNames: ['data_type'], registers: r,
    }),
    publishFailures: new Counter({
      name: 'ferry_publish_failures_total', help: 'Failed publish attempts, by error class and outcome (retry or failed).',
      labelNames: ['error_class', 'outcome'], registers: r,
    }),
    publishDuration: new Histogram({
      name: 'ferry_publish_duration_seconds', help: 'Time from claim to commit of a successful publish.',
      labelNames: ['kind'], buckets: PUBLISH_BUCKETS, registers: r,
    }),
    publishSize: new Histogram({
      name: 'ferry_publish_size_bytes', help: 'Size of published products.', labelNames: ['kind'], buckets: SIZE_BUCKETS, registers: r,
    }),
    publishGroupSize: new Histogram({
      name: 'ferry_publish_group_size', help: 'Products claimed together by one group publish (small files).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000], registers: r,
    }),
    publishedBytes: new Counter({ name: 'ferry_published_bytes_total', help: 'Bytes published.', registers: r }),
    retries: new Counter({ name: 'ferry_publish_retries_total', help: 'Publish attempts scheduled for a retry (automatic or operator).', labelNames: ['trigger'], registers: r }),
    reconcilerRequeued: new Counter({
      name: 'ferry_reconciler_requeued_total', help: 'Products the reconciler re-enqueued because the queue did not hold them.', registers: r,
    }),
    leaseReclaims: new Counter({ name: 'ferry_lease_reclaims_total', help: 'Expired leases reclaimed from dead or stalled workers.', registers: r }),
    oldestFailedAge: new Gauge({
      name: 'ferry_oldest_failed_product_age_seconds', help: 'Time the longest-failed product has been failed (0 when none).', ...shared,
    }),
    paused: new Gauge({
      name: 'ferry_publishing_paused', help: 'Publishing paused (1) or not (0): scope "*" is the whole service, else a data type.',
      labelNames: ['scope'], ...shared,
    }),
    runningPublishes: new Gauge({ name: 'ferry_publishes_running', help: 'Publishes copying right now in this worker.', registers: r }),
    runningBytes: new Gauge({ name: 'ferry_publish_running_copied_bytes', help: 'Bytes copied so far by the publishes running now.', registers: r }),
    runningTotalBytes: new Gauge({ name: 'ferry_publish_running_size_bytes', help: 'Total size of the publishes running now.', registers: r }),
    runningRate: new Gauge({ name: 'ferry_publish_running_rate_bytes_per_second', help: 'Copy rate of the publishes running now (sum).', registers: r }),
    runningEta: new Gauge({ name: 'ferry_publish_running_eta_seconds', help: 'Longest estimated time left of the publishes running now (0 when none).', registers: r }),
    bandwidthLimit: new Gauge({ name: 'ferry_publish_bandwidth_limit_bytes_per_second', help: 'Bandwidth limit in force for this worker\'s copies (0 = unlimited).', registers: r }),
    heartbeat: new Gauge({
      name: 'ferry_worker_heartbeat_timestamp_seconds', help: 'Unix time of the worker loop\'s last heartbeat.', registers: r, aggregator: 'max',
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Starts the publish counters at 0 for every bounded label value: a series first exported at 1
 * shows no increase to rate(), so the first publish or failure after a start would go unseen by
 * the dashboards and the success-ratio alert.
 */
export function zeroPublishCounters(metrics: Metrics, dataTypes: readonly string[]): void {
  for (const data_type of dataTypes) metrics.publishesCompleted.inc({ data_type }, 0);
  for (const error_class of Object.keys(PUBLISH_ERROR_CLASSES)) {
    for (const outcome of ['retry', 'failed']) metrics.publishFailures.inc({ error_class, outcome }, 0);
  }
}

import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { redactServerPaths } from '../../core/publish/redact-paths';
import type { PublishJobData } from '../../core/jobs/publish-queue';
import type { Logger } from '../../core/logging/create-logger';
import type { Metrics } from '../../core/metrics/create-metrics';
import { publishGroup, type GroupContext, type GroupMemberResult } from '../../core/domain/publishing/publish-group';
import { publishProduct, type PublishContext, type PublishResult } from '../../core/domain/publishing/publish-product';
import type { PublishingDeps } from '../../core/domain/publishing/publishing.types';
import { applyPendingFileAction } from '../../core/domain/lifecycle/apply-pending-file-action';
import type { BandwidthLimiter } from '../bandwidth-limiter';
import type { PublishProgress } from '../publish-progress';

/** How long a job that met a pause waits before it looks again (resume promotes it at once). */
export const PAUSED_RECHECK_MS = 30_000;

/** What the publish processor needs from the worker process. */
export interface PublishProcessorDeps {
  publishing: PublishingDeps;
  metrics: Metrics;
  logger: Logger;
  /** Aborted when the shutdown grace period runs out: the copy in hand stops and its lease is released. */
  shutdownSignal: AbortSignal;
  /** True once shutdown began: jobs fetched but not started are handed back unclaimed. */
  isStopping: () => boolean;
  /** The process's shared bandwidth budget and the running copies' progress. */
  limiter: BandwidthLimiter;
  progress: PublishProgress;
  /** Test-only pauses at fixed moments of an attempt (PUBLISH_TEST_HOOK_DIR). */
  testHook?: PublishContext['testHook'];
  /** Removes the waiting or delayed jobs of these products (a running one is left to finish). */
  forgetJobs?: (dataIds: string[]) => Promise<void>;
  /** Puts a product's job back on the queue, due after delayMs. */
  requeue?: (dataId: string, delayMs: number) => Promise<void>;
}

/** A BullMQ processor: (job, token) => result. */
export type Processor = (job: Job<PublishJobData>, token?: string) => Promise<unknown>;

/** The underlying error's own text (an errno message, say), for the logs only. */
function causeOf(err: Error): string | undefined {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : undefined;
}

/** Puts the job back in the queue for `at` without counting a BullMQ attempt, then tells BullMQ so. */
async function delayUntil(job: Job, token: string | undefined, at: number): Promise<never> {
  await job.moveToDelayed(at, token);
  throw new DelayedError();
}

/**
 * The `publish-product` processor. Idempotent: PostgreSQL decides what happens (publishProduct),
 * and the job only mirrors it — delayed to the row's next_attempt_at for a retry, failed with
 * UnrecoverableError for a permanent failure, completed otherwise. BullMQ's own attempts and
 * backoff are not used, so Redis never holds state the reconciler could not rebuild.
 */
export function createPublishProcessor(deps: PublishProcessorDeps): Processor {
  const { metrics } = deps;
  return async (job, token) => {
    const dataId = job.data.data_id;
    let log = deps.logger.child({ data_id: dataId, job_id: job.id });
    if (deps.isStopping()) return delayUntil(job, token, Date.now());
    let dataType = 'unknown';
    const hooks: GroupContext = {
      shutdownSignal: deps.shutdownSignal,
      pace: (bytes, signal) => deps.limiter.take(bytes, signal),
      chunkBytes: () => deps.limiter.chunkBytes(),
      onBytes: (n) => deps.progress.add(dataId, n),
      onMemberBytes: (id, n) => deps.progress.add(id, n),
      onInactive: async (product) => {
        await applyPendingFileAction(deps.publishing, product);
        log.info(product.status === 'retracted' ? 'retracted product moved aside' : 'discarded product\'s source removed');
      },
      testHook: deps.testHook,
      onClaimed: (lease, product) => {
        deps.progress.start(lease.dataId, product.data_type, Number(product.size_bytes ?? 0));
        if (lease.dataId !== dataId) return;
        dataType = product.data_type;
        log = log.child({ attempt: lease.attempt, lease: lease.token });
        log.info('publish started', { kind: product.kind, destination: product.destination_path });
      },
      onWarning: (message, err) => log.warn(message, err ? { err } : {}),
      // The other members' queued jobs would only meet a leased product and look again every few seconds: drop
      // them at once, so the next job in the queue is one for a product still due.
      onGroupClaimed: async (ids) => deps.forgetJobs?.(ids.filter((id) => id !== dataId)),
    };
    // A due small file goes with others like it in a group; anything else (or groups off) one by one.
    // The job's group and its drain take only what was due when the job began.
    const dueBy = new Date();
    const group = await publishGroup(deps.publishing, dataId, hooks, dueBy).finally(() => deps.progress.end(dataId));
    let result: PublishResult;
    if (group) {
      await settleGroup(deps, group, dataId, log);
      result = group.find((m) => m.product.data_id === dataId)!.result;
      await drainDueGroups(deps, hooks, log, dueBy);
    } else {
      result = await publishProduct(deps.publishing, dataId, hooks).finally(() => deps.progress.end(dataId));
    }
    if ('reclaimed' in result && result.reclaimed) metrics.leaseReclaims.inc();
    switch (result.outcome) {
      case 'published': {
        const { digest } = result;
        metrics.publishesCompleted.inc({ data_type: dataType });
        metrics.publishDuration.observe({ kind: digest.kind }, result.durationMs / 1000);
        metrics.publishSize.observe({ kind: digest.kind }, digest.size);
        if (!result.reusedExisting) metrics.publishedBytes.inc(digest.size);
        log.info('published', { bytes: digest.size, file_count: digest.fileCount, sha256: digest.sha256, duration_ms: result.durationMs, reused_existing: result.reusedExisting });
        return { published: true };
      }
      case 'already_published':
      case 'skipped':
        log.info('nothing to publish', { outcome: result.outcome, reason: 'reason' in result ? result.reason : undefined });
        return { published: false };
      case 'paused':
        // The claim saw a pause; a copy already running is not this job's business and finishes.
        log.debug('publishing paused; job delayed', { recheck_ms: PAUSED_RECHECK_MS });
        return delayUntil(job, token, Date.now() + PAUSED_RECHECK_MS);
      case 'not_due':
        log.debug('not due yet; job delayed', { until: result.until.toISOString() });
        return delayUntil(job, token, result.until.getTime() + 50);
      case 'retry':
        metrics.publishFailures.inc({ error_class: result.error.errorClass, outcome: 'retry' });
        metrics.retries.inc({ trigger: 'automatic' });
        log.warn('publish attempt failed; retry scheduled', { error_class: result.error.errorClass, error: result.error.message, cause: causeOf(result.error), next_attempt_at: result.nextAttemptAt.toISOString() });
        return delayUntil(job, token, result.nextAttemptAt.getTime());
      case 'failed':
        metrics.publishFailures.inc({ error_class: result.error.errorClass, outcome: 'failed' });
        log.error('publish failed', { error_class: result.error.errorClass, error: result.error.message, cause: causeOf(result.error) });
        throw new UnrecoverableError(`${result.error.errorClass}: ${redactServerPaths(result.error.message, deps.publishing.config.paths)}`);
      case 'released':
        log.warn('shutdown: copy aborted, lease released');
        return delayUntil(job, token, Date.now());
      case 'lease_lost':
        metrics.publishFailures.inc({ error_class: 'lease_lost', outcome: 'retry' });
        log.warn('lease lost to another worker; this attempt changed nothing');
        // Run the job again shortly: the claim then sees what the new lease holder did.
        return delayUntil(job, token, Date.now() + 1000);
    }
  };
}

/**
 * After a group: the other members (every member of a drained group) counted and logged, and given
 * their jobs back where they are not published. Their queued jobs were dropped at the claim (a
 * product registered in a batch may have had none: publish-dispatch.ts); one that is not published
 * gets a job, as the single path would delay it.
 */
async function settleGroup(deps: PublishProcessorDeps, group: GroupMemberResult[], ownDataId: string | undefined, log: Logger): Promise<void> {
  const others = group.filter((m) => m.product.data_id !== ownDataId);
  for (const m of others) {
    deps.progress.end(m.product.data_id);
    reportMember(deps, m);
  }
  deps.metrics.publishGroupSize.observe(group.length);
  for (const m of others) {
    const delay = requeueDelay(m.result);
    if (delay !== undefined) {
      await deps.requeue?.(m.product.data_id, delay).catch((err) => log.warn('requeue failed; the reconciler enqueues the product', { err, member: m.product.data_id }));
    }
  }
}

/**
 * A job that published its product in a group goes on with the small files still due, a group at
 * a time, until none is left or the worker stops. A batch registration gives a job to only one
 * product in each group's worth of small files (publish-dispatch.ts): the others are published
 * here. Only what was due by `dueBy`, when the job began, is taken: every product of the job's
 * own registration was, and products registered later wait for their own jobs, behind whatever was
 * queued before them (and a job that runs on while Redis is unreachable takes no new work).
 */
async function drainDueGroups(deps: PublishProcessorDeps, hooks: GroupContext, log: Logger, dueBy: Date): Promise<void> {
  try {
    while (!deps.isStopping() && !deps.shutdownSignal.aborted) {
      const group = await publishGroup(deps.publishing, undefined, hooks, dueBy);
      if (!group) return;
      await settleGroup(deps, group, undefined, log);
    }
  } catch (err) {
    // The job's own product is settled; a claim that failed (PostgreSQL unreachable) changed nothing.
    log.warn('drain stopped; the reconciler enqueues the products still due', { err });
  }
}

/** Metrics and a log line for a product published (or not) in another product's group: its job only mirrors the row later. */
function reportMember(deps: PublishProcessorDeps, m: GroupMemberResult): void {
  const { metrics } = deps;
  const { result, product } = m;
  const log = deps.logger.child({ data_id: product.data_id, attempt: product.publish_attempts, lease: product.lease_token });
  switch (result.outcome) {
    case 'published':
      metrics.publishesCompleted.inc({ data_type: product.data_type });
      metrics.publishDuration.observe({ kind: result.digest.kind }, result.durationMs / 1000);
      metrics.publishSize.observe({ kind: result.digest.kind }, result.digest.size);
      if (!result.reusedExisting) metrics.publishedBytes.inc(result.digest.size);
      log.info('published', { bytes: result.digest.size, sha256: result.digest.sha256, duration_ms: result.durationMs, reused_existing: result.reusedExisting, group: true });
      return;
    case 'retry':
      metrics.publishFailures.inc({ error_class: result.error.errorClass, outcome: 'retry' });
      metrics.retries.inc({ trigger: 'automatic' });
      log.warn('publish attempt failed; retry scheduled', { error_class: result.error.errorClass, error: result.error.message, cause: causeOf(result.error), next_attempt_at: result.nextAttemptAt.toISOString(), group: true });
      return;
    case 'failed':
      metrics.publishFailures.inc({ error_class: result.error.errorClass, outcome: 'failed' });
      log.error('publish failed', { error_class: result.error.errorClass, error: result.error.message, cause: causeOf(result.error), group: true });
      return;
    case 'lease_lost':
      metrics.publishFailures.inc({ error_class: 'lease_lost', outcome: 'retry' });
      log.warn('lease lost to another worker; this attempt changed nothing', { group: true });
      return;
    default:
      log.warn('publish in a group ended without a publish', { outcome: result.outcome, group: true });
  }
}

/** When a grouped product's job must run again (undefined: never, it is published or failed for good). */
function requeueDelay(result: PublishResult): number | undefined {
  switch (result.outcome) {
    case 'retry':
      return Math.max(0, result.nextAttemptAt.getTime() - Date.now());
    case 'released':
      return 0;
    case 'lease_lost':
      return 1000;
    case 'not_due':
      return Math.max(0, result.until.getTime() - Date.now() + 50);
    default:
      return undefined;
  }
}

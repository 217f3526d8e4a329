import type { Queue } from 'bullmq';
import { enqueuePublish, type PublishJobData } from '../core/jobs/publish-queue';
import { PeriodicTask } from '../core/lifecycle/periodic-task';
import { reclaimExpiredLeases } from '../core/domain/publishing/reclaim-expired-leases';
import { removeOrphanTemporaries } from '../core/domain/publishing/remove-orphan-temporaries';
import { requeueDueProducts, requeuePendingSourceRemovals } from '../core/domain/publishing/requeue-due-products';
import { requeuePendingFileActions } from '../core/domain/lifecycle/requeue-pending-file-actions';
import type { PublishingDeps } from '../core/domain/publishing/publishing.types';
import type { Logger } from '../core/logging/create-logger';
import type { Metrics } from '../core/metrics/create-metrics';

export interface ReconcilerOptions {
  publishing: PublishingDeps;
  queue: Queue<PublishJobData>;
  metrics: Metrics;
  logger: Logger;
  intervalSeconds: number;
}

/**
 * The periodic sweep that makes PostgreSQL, not Redis, the truth: reclaims expired leases (removing
 * the dead worker's temporary copy, and any copy whose lease is already gone), re-enqueues every due product the queue does not hold, and
 * re-enqueues published products whose source removal (move mode) was interrupted.
 * One sweep at a time; a failed sweep is logged and the next one tries again.
 */
export class Reconciler {
  private readonly task: PeriodicTask;

  constructor(private readonly o: ReconcilerOptions) {
    this.task = new PeriodicTask({
      everyMs: o.intervalSeconds * 1000,
      runAtStart: true,
      run: () => this.runSweep(),
      onError: (err) => o.logger.error('reconcile sweep failed', { err }),
    });
  }

  start(): void {
    this.task.start();
  }

  /** Runs one sweep (or joins the one in progress). */
  sweep(): Promise<void> {
    return this.task.runNow();
  }

  private async runSweep(): Promise<void> {
    const { publishing, queue, metrics, logger } = this.o;
    const reclaimed = await reclaimExpiredLeases(publishing);
    for (const r of reclaimed) {
      metrics.leaseReclaims.inc();
      logger.warn('expired lease reclaimed', { data_id: r.dataId, lease: r.token, lease_owner: r.owner });
      await enqueuePublish(queue, r.dataId);
    }
    const orphans = await removeOrphanTemporaries(publishing.pool, publishing.config.paths.productsRoot);
    if (orphans.length > 0) logger.warn('removed temporary copies of leases that no longer exist', { count: orphans.length });
    const requeued = await requeueDueProducts({ pool: publishing.pool, queue });
    if (requeued > 0) {
      metrics.reconcilerRequeued.inc(requeued);
      logger.warn('reconciler re-enqueued due products the queue did not hold', { count: requeued });
    }
    const olderThan = Math.max(60, publishing.config.publish.leaseSeconds);
    const cleanups = await requeuePendingSourceRemovals({ pool: publishing.pool, queue }, olderThan);
    if (cleanups > 0) logger.info('re-enqueued interrupted source removals', { count: cleanups });
    const fileActions = await requeuePendingFileActions({ pool: publishing.pool, queue });
    if (fileActions > 0) logger.info('re-enqueued pending retraction moves and discarded-source removals', { count: fileActions });
  }

  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void> {
    return this.task.stop();
  }
}

import { PeriodicTask } from '../../lifecycle/periodic-task';
import { confirmLeases, extendLease as extendLeaseRow } from '../../repositories/lease.repository';
import type { Lease, PublishingDeps } from './publishing.types';

/** Extends a lease; false when this worker no longer holds it (it must stop and touch nothing). */
export function extendLease(deps: PublishingDeps, lease: Lease): Promise<boolean> {
  return extendLeaseRow(deps.pool, lease.productId, lease.token, deps.config.publish.leaseSeconds);
}

/**
 * The last lease check before a copy becomes visible (confirmLeases): false when this worker no
 * longer holds the lease; else it has at least half its length left.
 */
export async function confirmLease(deps: PublishingDeps, lease: Lease): Promise<boolean> {
  return (await confirmLeases(deps.pool, [{ id: lease.productId, token: lease.token }], deps.config.publish.leaseSeconds)).has(lease.productId);
}

/**
 * Keeps a lease alive while a copy makes progress: a timer (so it runs between async I/O chunks,
 * never starved by them) extends the lease every third of its length if bytes moved since the
 * last tick. A copy that stops moving lets its lease run out, so a hung worker loses the product.
 * On a lost lease it aborts `controller` with a lease_lost error.
 */
export class LeaseKeeper {
  private progress = 0;
  private seen = 0;
  private readonly task: PeriodicTask;

  constructor(deps: PublishingDeps, lease: Lease, onLost: () => void, onError: (err: unknown) => void = () => undefined) {
    this.task = new PeriodicTask({
      everyMs: (deps.config.publish.leaseSeconds * 1000) / 3,
      shouldRun: () => this.progress !== this.seen,
      run: async () => {
        this.seen = this.progress;
        if (!(await extendLease(deps, lease))) onLost();
      },
      onError,
    });
  }

  /** Counts progress (bytes or files) since the last extension. */
  tick(n = 1): void {
    this.progress += n;
  }

  start(): void {
    this.task.start();
  }

  /** Stops the timer and waits for an extension in flight. */
  stop(): Promise<void> {
    return this.task.stop();
  }
}

import { extendLease as extendLeaseRow } from '../../repositories/lease.repository';
import type { Lease, PublishingDeps } from './publishing.types';

/** Extends a lease; false when this worker no longer holds it (it must stop and touch nothing). */
export function extendLease(deps: PublishingDeps, lease: Lease): Promise<boolean> {
  return extendLeaseRow(deps.pool, lease.productId, lease.token, deps.config.publish.leaseSeconds);
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
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly deps: PublishingDeps,
    private readonly lease: Lease,
    private readonly onLost: () => void,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Counts progress (bytes or files) since the last extension. */
  tick(n = 1): void {
    this.progress += n;
  }

  start(): void {
    const every = (this.deps.config.publish.leaseSeconds * 1000) / 3;
    this.timer = setInterval(() => {
      if (this.ticking || this.progress === this.seen) return;
      this.seen = this.progress;
      this.ticking = extendLease(this.deps, this.lease)
        .then((held) => {
          if (!held) this.onLost();
        })
        .catch(this.onError)
        .finally(() => {
          this.ticking = undefined;
        });
    }, every);
  }

  /** Stops the timer and waits for an extension in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}

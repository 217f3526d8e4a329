import { setTimeout as sleep } from 'node:timers/promises';

/** Holds reads to a byte rate so an audit can run beside production traffic. */
export class Throttle {
  private bytes = 0;
  private readonly started: number;

  /** bytesPerSecond undefined or 0: no limit. */
  constructor(
    private readonly bytesPerSecond: number | undefined,
    private readonly clock: () => number = () => performance.now(),
    private readonly wait: (ms: number) => Promise<unknown> = (ms) => sleep(ms),
  ) {
    this.started = clock();
  }

  /** Counts n bytes read and waits until the running average is back under the rate. */
  async consume(n: number): Promise<void> {
    this.bytes += n;
    if (!this.bytesPerSecond) return;
    const dueMs = (this.bytes / this.bytesPerSecond) * 1000;
    const elapsedMs = this.clock() - this.started;
    if (dueMs > elapsedMs) await this.wait(dueMs - elapsedMs);
  }

  /** Bytes counted so far. */
  get total(): number {
    return this.bytes;
  }
}

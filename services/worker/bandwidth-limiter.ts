/**
 * One bandwidth budget shared by every copy in this worker process (PUBLISH_MAX_BYTES_PER_SEC or
 * the run-time setting). Virtual scheduling: each chunk reserves its share of the pipe after the
 * previous reservations, and the copy waits until its reservation ends; a change of rate applies
 * to the next chunk of every copy. Rate 0 = unlimited.
 */
export class BandwidthLimiter {
  private bytesPerSec = 0;
  /** When (ms) the reservations made so far are used up. */
  private busyUntil = 0;

  constructor(bytesPerSec = 0) {
    this.setRate(bytesPerSec);
  }

  get rate(): number {
    return this.bytesPerSec;
  }

  setRate(bytesPerSec: number): void {
    this.bytesPerSec = Math.max(0, bytesPerSec);
  }

  /** Bytes per read and write that pace smoothly at this rate (about 8 per second), or undefined when unlimited. */
  chunkBytes(): number | undefined {
    if (this.bytesPerSec <= 0) return undefined;
    return Math.max(64 * 1024, Math.min(8 * 1024 * 1024, Math.floor(this.bytesPerSec / 8)));
  }

  /** Waits until `bytes` more fit in the budget; returns at once when unlimited or when the signal aborts. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSec <= 0 || signal?.aborted) return;
    const now = Date.now();
    this.busyUntil = Math.max(this.busyUntil, now) + (bytes / this.bytesPerSec) * 1000;
    const wait = this.busyUntil - now;
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

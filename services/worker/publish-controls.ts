import type { Pool } from 'pg';
import { getBandwidthLimit } from '../core/domain/lifecycle/get-bandwidth-limit';
import type { Logger } from '../core/logging/create-logger';
import type { Metrics } from '../core/metrics/create-metrics';
import type { BandwidthLimiter } from './bandwidth-limiter';
import type { RunningPublish } from './publish-progress';

export interface PublishControlsOptions {
  pool: Pool;
  limiter: BandwidthLimiter;
  metrics: Metrics;
  logger: Logger;
  /** PUBLISH_MAX_BYTES_PER_SEC: the limit when no run-time setting exists. */
  envLimit: number;
  intervalSeconds: number;
}

/**
 * Keeps the worker's run-time controls current: re-reads the bandwidth setting every
 * PUBLISH_CONTROL_REFRESH_SECONDS and applies it to the shared limiter (so copies already running
 * slow down or speed up), and exports the running copies' progress as gauges.
 */
export class PublishControls {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: PublishControlsOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.o.intervalSeconds * 1000);
  }

  /** One re-read; a database outage keeps the last limit (logged, never thrown). */
  refresh(): Promise<void> {
    if (this.running) return this.running;
    this.running = getBandwidthLimit(this.o.pool, this.o.envLimit)
      .then((limit) => {
        if (limit.max_bytes_per_sec !== this.o.limiter.rate) {
          this.o.logger.info('bandwidth limit changed', { max_bytes_per_sec: limit.max_bytes_per_sec, source: limit.source });
        }
        this.o.limiter.setRate(limit.max_bytes_per_sec);
        this.o.metrics.bandwidthLimit.set(limit.max_bytes_per_sec);
      })
      .catch((err: unknown) => {
        this.o.logger.warn('could not re-read the bandwidth limit; keeping the last one', { err });
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Sets the progress gauges from the running copies. */
  exportProgress(copies: RunningPublish[]): void {
    const m = this.o.metrics;
    m.runningPublishes.set(copies.length);
    m.runningBytes.set(copies.reduce((n, c) => n + c.copied_bytes, 0));
    m.runningTotalBytes.set(copies.reduce((n, c) => n + c.size_bytes, 0));
    m.runningRate.set(copies.reduce((n, c) => n + c.rate_bytes_per_sec, 0));
    m.runningEta.set(copies.reduce((n, c) => Math.max(n, c.eta_seconds ?? 0), 0));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

import fs from 'node:fs/promises';
import type Redis from 'ioredis';
import { PeriodicTask } from '../core/lifecycle/periodic-task';
import type { Logger } from '../core/logging/create-logger';
import type { Metrics } from '../core/metrics/create-metrics';

export interface HeartbeatOptions {
  file: string;
  redis: Redis;
  key: string;
  intervalSeconds: number;
  staleSeconds: number;
  metrics: Metrics;
  logger: Logger;
  /** What this worker is doing, stored as JSON beside the heartbeat under infoKey (same TTL). */
  infoKey?: string;
  info?: () => Record<string, unknown>;
}

/**
 * Proves the worker's event loop is alive: a timer on that loop writes unix ms to a file
 * (write + rename, so a reader never sees half a number) and to a Redis key with a TTL, and sets
 * the heartbeat gauge. A blocked loop stops all three; the health check reads them.
 */
export class Heartbeat {
  private readonly task: PeriodicTask;

  constructor(private readonly o: HeartbeatOptions) {
    this.task = new PeriodicTask({
      everyMs: o.intervalSeconds * 1000,
      runAtStart: true,
      run: () => this.write(),
      // Failures are logged, never thrown: a full /tmp must not kill publishing.
      onError: (err) => o.logger.warn('heartbeat write failed', { err }),
    });
  }

  start(): void {
    this.task.start();
  }

  /** One heartbeat (or the one in progress). */
  beat(): Promise<void> {
    return this.task.runNow();
  }

  private async write(): Promise<void> {
    const now = Date.now();
    this.o.metrics.heartbeat.set(now / 1000);
    const tmp = `${this.o.file}.${process.pid}.tmp`;
    await Promise.all([
      fs.writeFile(tmp, `${now}\n`).then(() => fs.rename(tmp, this.o.file)),
      this.o.redis.set(this.o.key, String(now), 'PX', Math.round(this.o.staleSeconds * 1000)),
      this.o.infoKey && this.o.info
        ? this.o.redis.set(this.o.infoKey, JSON.stringify({ at: now, ...this.o.info() }), 'PX', Math.round(this.o.staleSeconds * 1000))
        : undefined,
    ]);
  }

  /** Stops beating and withdraws the Redis key: this instance is going away on purpose. */
  async stop(): Promise<void> {
    await this.task.stop();
    await this.o.redis.del(this.o.key).catch(() => undefined);
    if (this.o.infoKey) await this.o.redis.del(this.o.infoKey).catch(() => undefined);
  }
}

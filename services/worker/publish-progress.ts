import type { WorkerCopy } from '../core/domain/monitoring/service-status';
/** One publish copying right now, as status and metrics show it: the heartbeat's copy, declared once in core. */
export type RunningPublish = WorkerCopy;

interface Entry {
  dataId: string;
  dataType: string;
  size: number;
  copied: number;
  started: number;
}

/** The publishes this worker is copying, with their bytes, rate and ETA. */
export class PublishProgress {
  private readonly running = new Map<string, Entry>();

  start(dataId: string, dataType: string, size: number): void {
    this.running.set(dataId, { dataId, dataType, size, copied: 0, started: Date.now() });
  }

  add(dataId: string, bytes: number): void {
    const e = this.running.get(dataId);
    if (e) e.copied += bytes;
  }

  end(dataId: string): void {
    this.running.delete(dataId);
  }

  snapshot(now = Date.now()): RunningPublish[] {
    return [...this.running.values()].map((e) => {
      const seconds = Math.max(0.001, (now - e.started) / 1000);
      const rate = e.copied / seconds;
      // Hashing an existing copy reads more than the size; the ETA never goes below 0.
      const left = Math.max(0, e.size - e.copied);
      return {
        data_id: e.dataId,
        data_type: e.dataType,
        size_bytes: e.size,
        copied_bytes: e.copied,
        started_at: new Date(e.started).toISOString(),
        rate_bytes_per_sec: Math.round(rate),
        eta_seconds: rate > 0 ? Math.round((left / rate) * 10) / 10 : null,
      };
    });
  }
}

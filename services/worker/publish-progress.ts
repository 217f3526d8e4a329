/** One publish copying right now, as status and metrics show it. */
export interface RunningPublish {
  data_id: string;
  data_type: string;
  size_bytes: number;
  copied_bytes: number;
  started_at: string;
  /** Bytes per second over the copy so far. */
  rate_bytes_per_sec: number;
  /** Seconds left at that rate; null until bytes move. */
  eta_seconds: number | null;
}

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

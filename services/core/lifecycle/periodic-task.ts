/** What a periodic task runs, how often, and what happens to a failure. */
export interface PeriodicTaskOptions {
  /** Milliseconds between the starts of two runs. */
  everyMs: number;
  /** One run. A rejection goes to onError; the next tick tries again. */
  run: () => Promise<void>;
  onError?: (err: unknown) => void;
  /** Run once at start() too, rather than first after one interval. */
  runAtStart?: boolean;
  /** Checked at each tick: false skips that tick (nothing to do). */
  shouldRun?: () => boolean;
}

/**
 * A loop on the event loop's timer (so it keeps its rhythm between async I/O chunks): at most one
 * run at a time — a tick while a run is in flight joins it rather than starting another — and
 * stop() clears the timer and waits for the run in flight. The heartbeat, the reconciler and the
 * lease keeper are each one of these.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: PeriodicTaskOptions) {}

  start(): void {
    if (this.timer) return;
    if (this.o.runAtStart) void this.runNow();
    this.timer = setInterval(() => {
      if (this.running || (this.o.shouldRun && !this.o.shouldRun())) return;
      void this.runNow();
    }, this.o.everyMs);
  }

  /** Runs once now, or joins the run in progress. Never rejects. */
  runNow(): Promise<void> {
    if (this.running) return this.running;
    const p = Promise.resolve()
      .then(() => this.o.run())
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => {
        this.running = undefined;
      });
    this.running = p;
    return p;
  }

  /** Stops the timer and waits for a run in progress. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** One step of an ordered shutdown. */
interface Step {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Ordered, idempotent shutdown: steps run once, in the order registered (stop intake, drain,
 * close queues and Redis, end the pool, flush logs). A failing step is reported and the next one
 * still runs. A force-quit timer, shorter than compose's stop_grace_period, ends a stuck shutdown.
 */
export class ShutdownRegistry {
  private readonly steps: Step[] = [];
  private running: Promise<boolean> | undefined;

  constructor(private readonly opts: { forceAfterMs: number; onStepError?: (name: string, err: unknown) => void; exit?: (code: number) => void }) {}

  /** Adds a step; steps run in registration order. */
  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs every step once; later calls return the same promise. Resolves true when every step succeeded. */
  run(): Promise<boolean> {
    if (!this.running) this.running = this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<boolean> {
    const exit = this.opts.exit ?? ((code: number) => process.exit(code));
    const timer = setTimeout(() => exit(1), this.opts.forceAfterMs);
    timer.unref();
    let ok = true;
    for (const step of this.steps) {
      try {
        await step.run();
      } catch (err) {
        ok = false;
        this.opts.onStepError?.(step.name, err);
      }
    }
    clearTimeout(timer);
    return ok;
  }
}

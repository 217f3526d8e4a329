/**
 * Runs batches one at a time, as a database's group commit does: an item pushed while no batch
 * runs starts one at once; those pushed while one runs wait and go together in the next (at most
 * `max` a batch). `run` answers every item of its batch itself and must not throw. It serves the
 * single registrations of an api process: their look-ups (DataIdLookup) and their writes
 * (RegistrationWriter).
 */
export class BatchesInTurn<T> {
  private readonly waiting: T[] = [];
  private running = false;

  constructor(private readonly max: number, private readonly run: (batch: T[]) => Promise<void>) {}

  push(item: T): void {
    this.waiting.push(item);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.run(this.waiting.splice(0, this.max));
    } finally {
      this.running = false;
    }
  }
}

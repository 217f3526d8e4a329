import TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message');

/** Transports with lines possibly pending; one exit listener writes them all (not one listener per logger). */
const open = new Set<BatchedLineTransport>();
process.on('exit', () => {
  for (const t of open) t.flush();
});

/**
 * Writes log lines in batches: every line formatted in one turn of the event loop goes out in one
 * write at the end of that turn. stdout on a pipe or a file is a synchronous write in Node, so one
 * write per line put a system call on every request's path (the access log); now a busy turn pays
 * one. Lines still leave the process in order and before the next turn, and whatever is pending is
 * written synchronously when the logger ends or the process exits.
 */
export class BatchedLineTransport extends TransportStream {
  private pending: string[] = [];
  private scheduled = false;
  private readonly out: (text: string) => void;

  constructor(opts: { write?: (text: string) => void } = {}) {
    super();
    this.out = opts.write ?? ((text) => process.stdout.write(text));
    open.add(this);
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.pending.push(`${String(info[MESSAGE])}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    next();
  }

  /** Writes every pending line now, in one write. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.out(text);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.flush();
    open.delete(this);
    done();
  }
}

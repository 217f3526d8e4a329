import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ONES_SUM_THREAD, onesSum, type OnesSumReply, type OnesSumRequest } from './ones-sum';

/** The thread's entry: ones-sum.js in the build, ones-sum.ts when the tests run the sources. */
const ENTRY = path.join(__dirname, `ones-sum${path.extname(__filename)}`);
/** Node runs the .ts entry as an ES module, and says so once per thread unless told it is expected. */
const EXEC_ARGV = ENTRY.endsWith('.ts') ? ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'] : [];

interface Pending {
  req: OnesSumRequest;
  resolve: (sums: number[]) => void;
}

/** Sums a request on the calling thread: the fallback when the summing thread is gone. */
function sumHere(req: OnesSumRequest): number[] {
  return req.ranges.map(([a, b]) => onesSum(new Uint32Array(req.buffer, req.byteOffset + a, (b - a) >>> 2), 0, (b - a) >>> 2));
}

/**
 * One summing thread per process, shared by every copy, started on first use. It holds the
 * process open only while a request is pending (ref while busy, unref when idle), so an idle
 * worker process exits as before. If the thread fails, its pending requests and later ones are
 * summed here, on the event loop: slower, never wrong, since the copy refills no buffer before its
 * sum is in.
 */
class OnesSumThread {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private start(): Worker | undefined {
    if (this.broken) return undefined;
    if (this.worker) return this.worker;
    const worker = new Worker(ENTRY, { workerData: ONES_SUM_THREAD, execArgv: EXEC_ARGV });
    worker.on('message', (reply: OnesSumReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      p.resolve(reply.sums);
    });
    const fail = () => {
      this.broken = true;
      this.worker = undefined;
      for (const p of this.pending.values()) p.resolve(sumHere(p.req));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => {
      if (this.worker === worker) fail();
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** The ones'-complement sum of each byte range of `buffer` (word-aligned, relative to byteOffset). */
  sum(buffer: SharedArrayBuffer, byteOffset: number, ranges: Array<[number, number]>): Promise<number[]> {
    const req: OnesSumRequest = { id: this.nextId++, buffer, byteOffset, ranges };
    const worker = this.start();
    if (!worker) return Promise.resolve(sumHere(req));
    return new Promise((resolve) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(req.id, { req, resolve });
      worker.postMessage(req);
    });
  }

  /** True while a summing thread is up (not fallen back to the event loop). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Stops the thread (shutdown and tests); a later sum starts a new one. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    for (const p of this.pending.values()) p.resolve(sumHere(p.req));
    this.pending.clear();
    await worker.terminate();
  }
}

const thread = new OnesSumThread();

/** Sums byte ranges of a shared buffer on the process's summing thread. */
export function sumOnThread(buffer: SharedArrayBuffer, byteOffset: number, ranges: Array<[number, number]>): Promise<number[]> {
  return thread.sum(buffer, byteOffset, ranges);
}

/** True while the summing thread is up: the tests check the sums came from it, not from the fallback. */
export function onesSumThreadRunning(): boolean {
  return thread.running;
}

/** Stops the summing thread, if one runs (idempotent). */
export function stopOnesSumThread(): Promise<void> {
  return thread.stop();
}

import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ONES_SUM_THREAD, sumRequest, type OnesSumReply, type OnesSumRequest, type OnesSumThreadData } from './ones-sum';
import { ONES_SUM_WASM } from './ones-sum-wasm';

/** The thread's entry: ones-sum.js in the build, ones-sum.ts when the tests run the sources. */
const ENTRY = path.join(__dirname, `ones-sum${path.extname(__filename)}`);
/** Node runs the .ts entry as an ES module, and says so once per thread unless told it is expected. */
const EXEC_ARGV = ENTRY.endsWith('.ts') ? ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'] : [];

/** WebAssembly pages are 64 KiB. */
const PAGE = 64 * 1024;

let compiled: WebAssembly.Module | undefined;
/** ones-sum.wat compiled once per process; the thread gets the compiled module, not the bytes. */
function onesSumModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(ONES_SUM_WASM, 'base64'));
  return compiled;
}

/** The shared memory behind each buffer allocateSummable gave out. */
const memories = new WeakMap<ArrayBufferLike, WebAssembly.Memory>();

/**
 * A buffer the summing thread reads in place: the whole of a shared WebAssembly memory, which the
 * SIMD sum is instantiated over (its .buffer is a SharedArrayBuffer, so the copy reads into it as
 * into any buffer).
 */
export function allocateSummable(bytes: number): Buffer {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  memories.set(memory.buffer, memory);
  return Buffer.from(memory.buffer, 0, bytes);
}

/** True when `buf` lies in a buffer from allocateSummable, at a word-aligned offset. */
export function isSummable(buf: Buffer): boolean {
  return memories.has(buf.buffer) && buf.byteOffset % 4 === 0;
}

interface Pending {
  req: OnesSumRequest;
  resolve: (sums: number[]) => void;
}

/** Sums a request on the calling thread: the fallback when the summing thread is gone. */
function sumHere(req: OnesSumRequest): number[] {
  return sumRequest(onesSumModule(), req);
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
    const data: OnesSumThreadData = { kind: ONES_SUM_THREAD, module: onesSumModule() };
    const worker = new Worker(ENTRY, { workerData: data, execArgv: EXEC_ARGV });
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

  /** The ones'-complement sum of each byte range of `buf` (word-aligned, relative to its start). */
  sum(buf: Buffer, ranges: Array<[number, number]>): Promise<number[]> {
    const memory = memories.get(buf.buffer);
    if (!memory || buf.byteOffset % 4 !== 0) throw new Error('ones-sum: the buffer was not made by allocateSummable');
    const req: OnesSumRequest = { id: this.nextId++, memory, byteOffset: buf.byteOffset, ranges };
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

/** Sums byte ranges of a buffer from allocateSummable on the process's summing thread. */
export function sumOnThread(buf: Buffer, ranges: Array<[number, number]>): Promise<number[]> {
  return thread.sum(buf, ranges);
}

/** True while the summing thread is up: the tests check the sums came from it, not from the fallback. */
export function onesSumThreadRunning(): boolean {
  return thread.running;
}

/** Stops the summing thread, if one runs (idempotent). */
export function stopOnesSumThread(): Promise<void> {
  return thread.stop();
}

import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  FILE_THREAD, type CallFailure, type FileCopyJob, type FileCopyResult, type FileThreadData, type FileThreadReply, type FileThreadRequest,
  type LstatRecord,
} from './file-thread';

/** The thread's entry: file-thread.js in the build, file-thread.ts when the tests run the sources. */
const ENTRY = path.join(__dirname, `file-thread${path.extname(__filename)}`);
/** Node runs the .ts entry as an ES module, and says so once per thread unless told it is expected. */
const EXEC_ARGV = ENTRY.endsWith('.ts') ? ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'] : [];

/**
 * File threads per process: one per core, at least two, at most four. Their calls mostly wait on
 * the file system: a directory product's copy took the same time with 2, 4 or 8 on the 2-core
 * bench machine, and each thread costs about 12 MiB of the worker's memory (docs/performance.md).
 */
const THREADS = Math.min(4, Math.max(2, os.availableParallelism()));

/**
 * Threads idle this long are stopped: a process that walked one directory a while ago (the api's
 * reconcile report, a CLI audit) does not keep their memory; the next request starts them again,
 * which costs about a tenth of a second (a 2,000-name walk took 142 ms then, 16-25 ms after).
 */
const IDLE_STOP_MS = 30_000;

/** A request without its id (the pool numbers them). */
type Work = { copy: FileCopyJob[] } | { lstat: { dir: number; names: string[] } };

interface Pending {
  req: FileThreadRequest;
  resolve: (reply: FileThreadReply) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  busy?: Pending;
}

/** A failed call from a thread as the error the same call would have thrown here, with its errno code. */
export function callError(f: CallFailure): Error {
  return Object.assign(new Error(f.message), { code: f.code, errno: f.errno, syscall: f.syscall });
}

/**
 * The process's file threads, shared by every copy and walk, started on first use. A thread holds
 * the process open only while it has a request (ref while busy, unref when idle). A thread that
 * dies fails its own request (the attempt fails `internal`, retryable) and the pool is then
 * unavailable: later copies and walks go through the thread pool, slower, never wrong. A request
 * settles only once no thread runs it any more, so the descriptors it names may be closed then.
 * Threads idle for `idleStopMs` are stopped.
 */
class FileThreads {
  private threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private broken = false;
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  idleStopMs = IDLE_STOP_MS;

  get available(): boolean {
    return !this.broken;
  }

  get running(): boolean {
    return this.threads.length > 0;
  }

  private start(): void {
    if (this.threads.length > 0) return;
    const data: FileThreadData = { kind: FILE_THREAD };
    for (let i = 0; i < THREADS; i++) {
      const thread: Thread = { worker: new Worker(ENTRY, { workerData: data, execArgv: EXEC_ARGV }) };
      thread.worker.on('message', (reply: FileThreadReply) => {
        const done = thread.busy;
        if (!done || done.req.id !== reply.id) return;
        thread.busy = undefined;
        this.next(thread);
        done.resolve(reply);
      });
      // 'exit' follows an uncaught error too: the thread no longer runs, so its request may settle.
      thread.worker.on('exit', (code) => this.lost(thread, code));
      thread.worker.on('error', () => undefined);
      thread.worker.unref();
      this.threads.push(thread);
    }
  }

  private give(thread: Thread, p: Pending): void {
    thread.busy = p;
    thread.worker.ref();
    thread.worker.postMessage(p.req);
  }

  private next(thread: Thread): void {
    const p = this.queue.shift();
    if (p) return this.give(thread, p);
    thread.worker.unref();
    if (this.threads.some((t) => t.busy)) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      void this.terminate(new Error('the file threads were stopped when idle'));
    }, this.idleStopMs);
    this.idleTimer.unref();
  }

  private lost(thread: Thread, code: number): void {
    if (!this.threads.includes(thread)) return;
    this.broken = true;
    this.threads = this.threads.filter((t) => t !== thread);
    const err = new Error(`a file thread stopped (exit code ${code})`);
    thread.busy?.reject(err);
    // Queued requests never started: no other thread takes them once the pool is broken.
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  run(work: Work): Promise<FileThreadReply> {
    if (this.broken) return Promise.reject(new Error('the file threads are not available'));
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.start();
    return new Promise((resolve, reject) => {
      const p: Pending = { req: { id: this.nextId++, ...work }, resolve, reject };
      const idle = this.threads.find((t) => !t.busy);
      if (idle) this.give(idle, p);
      else this.queue.push(p);
    });
  }

  /** Stops every thread; what they held or was queued fails with `err` once they no longer run. */
  private async terminate(err: Error): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const threads = this.threads;
    this.threads = [];
    for (const p of this.queue.splice(0)) p.reject(err);
    await Promise.all(threads.map(async (t) => {
      await t.worker.terminate();
      t.busy?.reject(err);
    }));
  }

  /** Stops the threads and forgets a failure: the next request starts new ones. */
  async stop(): Promise<void> {
    await this.terminate(new Error('the file threads were stopped'));
    this.broken = false;
  }
}

const pool = new FileThreads();

/** Copies a batch of small files on a file thread: results in job order, ending at the first file that did not copy. */
export async function copyOnThreads(jobs: FileCopyJob[]): Promise<FileCopyResult[]> {
  const reply = await pool.run({ copy: jobs });
  if ('copied' in reply) return reply.copied;
  throw callError('failure' in reply ? reply.failure : { message: 'the file thread answered a copy with stats' });
}

/** lstat of each name inside the open directory `dir`, on a file thread; rejects with the first call's error. */
export async function lstatOnThreads(dir: number, names: string[]): Promise<LstatRecord[]> {
  const reply = await pool.run({ lstat: { dir, names } });
  if ('stats' in reply) return reply.stats;
  throw callError('failure' in reply ? reply.failure : { message: 'the file thread answered an lstat with copies' });
}

/** False once a file thread has died (copies and walks then go through the thread pool). */
export function fileThreadsAvailable(): boolean {
  return pool.available;
}

/** True while file threads are up: the tests check the work went through them. */
export function fileThreadsRunning(): boolean {
  return pool.running;
}

/** How long idle file threads live (the tests shorten it). */
export function setFileThreadsIdleStop(ms: number): void {
  pool.idleStopMs = ms;
}

/** Stops the file threads (shutdown and tests): a request in flight fails once its thread has stopped; a later one starts new threads. */
export function stopFileThreads(): Promise<void> {
  return pool.stop();
}

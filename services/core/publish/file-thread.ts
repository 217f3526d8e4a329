import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

// A directory product's file work done with synchronous calls on a file thread (file-threads.ts),
// and the entry of that thread: the copy of its small files and the lstat calls of its walks. A
// file of a few hundred KiB copied through the thread pool takes a dozen hand-overs to it and back
// (open, fstat, create, read, write, fstat, chmod, utimes, closes), each costing more than the
// call, and a walk one per entry; here each batch is one message each way and the calls run where
// they are made (docs/performance.md, fifteenth pass).
// Self-contained, with no import of the project's own modules: Node runs this file as the thread's
// entry as it stands (compiled .js, or .ts with type stripping under the tests), and Node resolves
// no extension-less import of a .ts file. The open flags below are the ones dir-handle.ts uses too,
// and the checks copyAndHash's, for the same reasons: never follow a link, never block on a FIFO,
// the file opened must be the entry the scan recorded, and it must not change while it is read.

const C = fs.constants;
/** A source file: never through a symlink, and O_NONBLOCK keeps a FIFO from blocking the open. */
export const FILE_READ_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY;
/** A copy: created exclusively, never through a symlink. */
export const FILE_CREATE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

/** Files of at most this many bytes are copied on the file threads: one read each, one buffer per thread. */
export const THREAD_FILE_MAX_BYTES = 1024 * 1024;

/** One file to copy: its name inside an open source directory, what the scan saw, where it goes. */
export interface FileCopyJob {
  /** Descriptor of the open source directory (the process's, valid on every thread while the copy runs). */
  srcDir: number;
  name: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** Descriptor of the open destination directory; absent: hash only. */
  destDir?: number;
  /** The copy's mode, already sanitised. */
  mode: number;
  atime: Date;
  mtime: Date;
}

/** Why a source is no longer the one scanned (the caller words the message with the file's label). */
export type SourceChange = 'replaced' | 'not_regular' | 'changed';

/** A failed call, carried across the thread boundary with what classifying it needs. */
export interface CallFailure {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
}

export type FileCopyResult = { sha256: string; size: number } | { change: SourceChange } | { failure: CallFailure };

/** What a walk needs of an lstat: (dev, ino), st_mode with its type bits, size and times in ms. */
export interface LstatRecord {
  dev: number;
  ino: number;
  mode: number;
  size: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

export const FILE_THREAD = 'ferry-file-thread';

export interface FileThreadData {
  kind: typeof FILE_THREAD;
}

/** A batch of copies, or the lstat of names inside an open directory. */
export type FileThreadRequest = { id: number; copy: FileCopyJob[] } | { id: number; lstat: { dir: number; names: string[] } };

/**
 * Copies: results in job order, a batch stopping at its first failure (so it may hold fewer
 * results than jobs). Lstat: every name's record in order, or the first failure.
 */
export type FileThreadReply = { id: number; copied: FileCopyResult[] } | { id: number; stats: LstatRecord[] } | { id: number; failure: CallFailure };

const at = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

function failure(err: unknown): CallFailure {
  const e = err as NodeJS.ErrnoException;
  return { message: e instanceof Error ? e.message : String(err), code: e?.code, errno: e?.errno, syscall: e?.syscall };
}

function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    fs.closeSync(fd);
  } catch {
    // Only on a path that already failed, or of the source, which was only read.
  }
}

/**
 * Copies one file (size at most THREAD_FILE_MAX_BYTES, `buf` at least one byte longer) and hashes
 * exactly the bytes written; with no destination, only hashes. Names in `job` come from the scan,
 * which took them from the directory listing: single names.
 */
function copySmallFile(job: FileCopyJob, buf: Buffer): FileCopyResult {
  let input: number;
  try {
    input = fs.openSync(at(job.srcDir, job.name), FILE_READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') return { change: 'replaced' };
    return { failure: failure(err) };
  }
  let output: number | undefined;
  try {
    const st = fs.fstatSync(input);
    if (st.dev !== job.dev || st.ino !== job.ino) return { change: 'replaced' };
    if (!st.isFile()) return { change: 'not_regular' };
    if (job.destDir !== undefined) output = fs.openSync(at(job.destDir, job.name), FILE_CREATE_FLAGS, 0o600);
    const hash = crypto.createHash('sha256');
    // One byte more than expected: a short read is the end, and a file that grew shows at once.
    const want = Math.min(buf.length, job.size + 1);
    let total = 0;
    for (;;) {
      const n = fs.readSync(input, buf, 0, want, total);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      if (output !== undefined) for (let off = 0; off < n;) off += fs.writeSync(output, buf, off, n - off, total + off);
      total += n;
      if (total > job.size) return { change: 'changed' };
      if (n < want) break;
    }
    const after = fs.fstatSync(input);
    if (total !== job.size || after.size !== job.size || after.mtimeMs !== job.mtimeMs) return { change: 'changed' };
    if (output !== undefined) {
      fs.fchmodSync(output, job.mode);
      fs.futimesSync(output, job.atime, job.mtime);
      // Closed here, not quietly below: a file system may report a failed write only at close.
      const written = output;
      output = undefined;
      fs.closeSync(written);
    }
    return { sha256: hash.digest('hex'), size: total };
  } catch (err) {
    return { failure: failure(err) };
  } finally {
    closeQuietly(output);
    closeQuietly(input);
  }
}

/** Copies a batch in order, stopping at the first file that does not copy. */
function copyBatchSync(jobs: readonly FileCopyJob[], buf: Buffer): FileCopyResult[] {
  const results: FileCopyResult[] = [];
  for (const job of jobs) {
    const r = copySmallFile(job, buf);
    results.push(r);
    if (!('sha256' in r)) break;
  }
  return results;
}

/** lstat of each name inside the open directory `dir`, in order; the first failure ends the batch. */
function lstatBatchSync(dir: number, names: readonly string[]): LstatRecord[] | { failure: CallFailure } {
  const out: LstatRecord[] = [];
  for (const name of names) {
    try {
      const st = fs.lstatSync(at(dir, name));
      out.push({ dev: st.dev, ino: st.ino, mode: st.mode, size: st.size, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    } catch (err) {
      return { failure: failure(err) };
    }
  }
  return out;
}

function handle(req: FileThreadRequest, buf: Buffer): FileThreadReply {
  if ('copy' in req) return { id: req.id, copied: copyBatchSync(req.copy, buf) };
  const stats = lstatBatchSync(req.lstat.dir, req.lstat.names);
  return Array.isArray(stats) ? { id: req.id, stats } : { id: req.id, ...stats };
}

const threadData = workerData as FileThreadData | undefined;
if (parentPort && threadData?.kind === FILE_THREAD) {
  const port = parentPort;
  const buf = Buffer.allocUnsafe(THREAD_FILE_MAX_BYTES + 1);
  port.on('message', (req: FileThreadRequest) => port.postMessage(handle(req, buf)));
}

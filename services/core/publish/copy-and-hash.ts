import crypto from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';
import { allocateAligned } from './aligned-buffer';
import { createFileAt, openFileAt, reopenDirect, sourceChanged } from './dir-handle';
import { syncHandle } from './fsync';
import { allSettledOrThrow } from './settle-all';
import type { TreeEntry } from './scan-source';

/**
 * Bytes per read and write of a file copied through the page cache. Measured on the 2-core bench
 * machine (1 GiB, medians): 8 MiB chunks ~1.4 s, 1 MiB ~1.9 s: fewer, larger writes go faster
 * through the page cache. Two such buffers per copy in flight.
 */
const CHUNK = 8 * 1024 * 1024;
/**
 * Bytes written between two write-back kicks (`fdatasync` started while the copy goes on). Without
 * them a whole GiB of dirty pages waits for the final fsync; with them the disk writes while the
 * next chunks are read and hashed, and the final fsync finds little left. See docs/performance.md.
 */
const WRITE_BACK_EVERY = 128 * 1024 * 1024;
/** Bytes per hash update: SHA-256 runs on the event loop, half a millisecond per slice. */
const HASH_SLICE = 512 * 1024;
/**
 * Files of at least this many bytes are written around the page cache (O_DIRECT) by default
 * (PUBLISH_DIRECT_IO_MIN_MB). A copy through the cache fills it with pages of an archive nobody
 * reads soon, evicting what the stage's writers and readers need, and pays for every one of those
 * pages: on the bench machine the same GiB took 0.5 to 2.5 s to write into the cache. Written
 * directly, the bytes go from the copy's buffers to the disk.
 */
export const DEFAULT_DIRECT_MIN_BYTES = 64 * 1024 * 1024;
/**
 * Direct writes: 4 MiB each, six in flight while the next chunk is read and hashed, so 28 MiB of
 * buffers per large copy. 1 GiB on one bench machine: 8 MiB × 1 in flight 1.3–1.4 s, 8 MiB × 2
 * 0.83–0.94 s, 4 MiB × 3 0.80 s; on a later one, whose disk writes as fast as SHA-256 hashes,
 * 4 MiB × 3 0.74–1.07 s (mean 0.91, 20 runs; in 5 of them the copy waited 113-233 ms in all
 * on its writes) and 4 MiB × 6 0.71–0.96 s (mean 0.83; at most 65 ms). docs/performance.md.
 */
const DIRECT_CHUNK = 4 * 1024 * 1024;
const DIRECT_WRITES = 6;
/** O_DIRECT wants offsets and lengths in whole logical blocks: 4096 covers every block size in use. */
const DIRECT_BLOCK = 4096;

/** What a copy may be told while it runs. */
export interface CopyControl {
  /** Aborts the copy (lost lease, shutdown); checked between chunks. */
  signal?: AbortSignal;
  /** Called after every chunk with the bytes just moved (drives lease extension and metrics). */
  onBytes?: (n: number) => void;
  /** Waits after every chunk until the bandwidth limit lets the copy go on (the worker's shared limiter). */
  pace?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  /** Bytes per read and write (default 8 MiB, 4 MiB direct); smaller when many copies run at once, to bound memory. */
  chunkBytes?: number;
  /**
   * Files of at least this many bytes are written around the page cache where the file system
   * allows O_DIRECT (else through it, as smaller files are); 0 never. Default DEFAULT_DIRECT_MIN_BYTES.
   */
  directMinBytes?: number;
  /** Mode bits the copy never keeps (PUBLISH_MODE_DROP_BITS); default setuid, setgid, sticky, group/other write. */
  dropModeBits?: number;
  /** Fed every buffer the hash sees, in file order (a type's streaming check, e.g. FITS checksums). */
  observer?: CopyObserver;
  /**
   * Leave the copy's fsync to the caller (a group of small products makes them durable together,
   * before any of them is placed); the copy is still complete, with its mode and mtime, when it returns.
   */
  syncLater?: boolean;
  /**
   * With syncLater, a single file's copy hands its open handle here when it succeeds, instead of
   * closing it: the caller fsyncs the copy through it (no second open by name) and closes it.
   */
  keepOutput?: (output: FileHandle) => void;
}

/** A type's streaming check over the bytes a copy moves (FITS checksums). */
export interface CopyObserver {
  /**
   * Allocates the copy's read buffers (shared ones, so another thread can read them in place).
   * Each must start on a page boundary: the copy may write it with O_DIRECT.
   */
  allocate(bytes: number): Buffer;
  /**
   * Fed every buffer the hash sees, in file order. The copy refills the buffer only after the
   * returned promise settles, and waits for the last one before it returns.
   */
  observe(piece: Buffer): Promise<void>;
}

/** setuid, setgid, sticky, group write, other write. */
export const DEFAULT_DROP_MODE_BITS = 0o7022;

/** Throws the signal's reason when aborted. */
export function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new PublishError('internal', 'copy aborted');
}

/** A promise awaited later: marked handled now, so a failure while another step is awaited is not reported as unhandled. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

async function writeAll(output: FileHandle, piece: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < piece.length) off += (await output.write(piece, off, piece.length - off, position + off)).bytesWritten;
}

/** A copy's handle for writes around the page cache, until the file system refuses one. */
interface DirectOutput {
  fh: FileHandle;
  refused: boolean;
}

/**
 * A piece written around the page cache in whole blocks; a last partial block (only the file's end
 * has one) through the page cache, on the ordinary handle. A file system can take O_DIRECT at open
 * and still refuse the writes (EINVAL: alignment it needs beyond what the copy gives): that piece,
 * and the rest of the copy, then go through the page cache.
 */
async function writeDirect(direct: DirectOutput, buffered: FileHandle, piece: Buffer, position: number): Promise<void> {
  const whole = piece.length - (piece.length % DIRECT_BLOCK);
  if (whole > 0) {
    const to = direct.refused ? buffered : direct.fh;
    try {
      await writeAll(to, piece.subarray(0, whole), position);
    } catch (err) {
      // Several direct writes are in flight: each one refused goes again through the cache.
      if (to === buffered || (err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      direct.refused = true;
      // Rewrites whatever part a refused write had written, with the same bytes.
      await writeAll(buffered, piece.subarray(0, whole), position);
    }
  }
  if (whole < piece.length) await writeAll(buffered, piece.subarray(whole), position + whole);
}

/** `n` rounded down to whole blocks, at least one: every direct write then starts on a block boundary. */
function wholeBlocks(n: number): number {
  return Math.max(DIRECT_BLOCK, n - (n % DIRECT_BLOCK));
}

/** fdatasync with fsync's never-retry rule: a failure fails the copy (fsync_failed). */
async function dataSync(fh: FileHandle, label: string): Promise<void> {
  try {
    await fh.datasync();
  } catch (err) {
    throw new PublishError('fsync_failed', `write-back of the copy of ${label} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Clears the bits `drop` names from a mode (setuid, setgid, sticky, group/other write by default). */
export function sanitizeMode(mode: number, drop: number): number {
  return mode & 0o7777 & ~drop;
}

/** Where a copy goes: a name inside an open directory (the lease's private temp area). */
export interface CopyTarget {
  dir: FileHandle;
  name: string;
}

/**
 * Hashes the file `name` inside the open directory `srcDir` with SHA-256 while reading it; when
 * `dest` is given, writes each chunk to it (created exclusively), so the digest is computed from
 * exactly the bytes moved. The source is opened without following a symlink and must be the entry
 * the scan recorded (dev, ino), else `source_changed`. Pipelined over a ring of buffers: chunk n+1
 * is read and chunk n written on the thread pool while chunk n is hashed on the event loop in
 * 512 KiB slices, so no step blocks the loop for long; an observer (FITS checksums) may check chunk
 * n on its own thread meanwhile, and a buffer is refilled only once its write and its check are
 * done. Through the page cache the ring is two buffers, with write-back kicked every 128 MiB; a
 * large file written directly keeps DIRECT_WRITES (six) in flight. The copy then gets the source's mode
 * (minus the bits `ctl.dropModeBits` drops) and mtime and is fsynced before close. Verifies the
 * bytes read equal the size seen before the copy and that the source's size and mtime are
 * unchanged afterwards.
 */
export async function copyAndHash(srcDir: FileHandle, name: string, dest: CopyTarget | undefined, expected: TreeEntry, ctl: CopyControl = {}, label = name): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  const observer = ctl.observer;
  const { fh: input } = await openFileAt(srcDir, name, expected, label);
  let output: FileHandle | undefined;
  let direct: DirectOutput | undefined;
  let reading: Promise<{ bytesRead: number }> | undefined;
  let flushing: Promise<void> | undefined;
  // Per buffer: its write and its check, both done before the buffer is read into again.
  const busy: Array<Promise<unknown> | undefined> = [];
  let flushedUpTo = 0;
  let handedOver = false;
  try {
    if (dest) {
      output = await createFileAt(dest.dir, dest.name);
      const directMin = ctl.directMinBytes ?? DEFAULT_DIRECT_MIN_BYTES;
      const fh = directMin > 0 && expected.size >= directMin ? await reopenDirect(output) : undefined;
      if (fh) direct = { fh, refused: false };
    }
    const chunk = direct ? wholeBlocks(Math.min(ctl.chunkBytes ?? DIRECT_CHUNK, DIRECT_CHUNK)) : ctl.chunkBytes ?? CHUNK;
    // One byte more than expected: a short read then means end of file without a second read, and
    // a file that grew shows up at once.
    const want = Math.min(chunk, expected.size + 1);
    const ring = direct ? DIRECT_WRITES + 1 : 2;
    const allocate = observer ? (n: number) => observer.allocate(n) : direct ? allocateAligned : (n: number) => Buffer.allocUnsafe(n);
    // Allocated as the copy first needs each: a file that fits in one read uses one buffer.
    const bufs: Buffer[] = [allocate(want)];
    let total = 0;
    let turn = 0;
    reading = later(input.read(bufs[0]!, 0, want, 0));
    for (;;) {
      checkAborted(ctl.signal);
      const { bytesRead }: { bytesRead: number } = await reading;
      reading = undefined;
      if (bytesRead === 0) break;
      const piece = bufs[turn]!.subarray(0, bytesRead);
      // The next buffer is free once its write and its check are done: read ahead into it.
      const next = (turn + 1) % ring;
      await busy[next];
      busy[next] = undefined;
      if (bytesRead === want) reading = later(input.read((bufs[next] ??= allocate(want)), 0, want, total + bytesRead));
      const steps: Promise<void>[] = [];
      if (output) steps.push(direct ? writeDirect(direct, output, piece, total) : writeAll(output, piece, total));
      // Started before the hash, so a check on another thread runs while this thread hashes.
      if (observer) steps.push(observer.observe(piece));
      busy[turn] = later(allSettledOrThrow(steps));
      if (output && (!direct || direct.refused) && total - flushedUpTo >= WRITE_BACK_EVERY) {
        // One write-back in flight at a time; it covers every chunk whose write has completed.
        await flushing;
        flushing = later(dataSync(output, label));
        flushedUpTo = total;
      }
      for (let off = 0; off < bytesRead; off += HASH_SLICE) hash.update(piece.subarray(off, Math.min(bytesRead, off + HASH_SLICE)));
      total += bytesRead;
      ctl.onBytes?.(bytesRead);
      if (ctl.pace) await ctl.pace(bytesRead, ctl.signal);
      // A short read is the end of a regular file.
      if (!reading) break;
      turn = next;
    }
    for (const b of busy) await b;
    busy.length = 0;
    await flushing;
    flushing = undefined;
    const after = await input.stat();
    if (total !== expected.size || after.size !== expected.size || after.mtimeMs !== expected.mtimeMs) {
      throw sourceChanged(label, 'changed');
    }
    if (output) {
      await Promise.all([output.chmod(sanitizeMode(expected.mode, ctl.dropModeBits ?? DEFAULT_DROP_MODE_BITS)), output.utimes(expected.atime, expected.mtime)]);
      // Through either handle, fsync makes the file's data and metadata durable.
      if (!ctl.syncLater) await syncHandle(output, label);
      else if (ctl.keepOutput) {
        ctl.keepOutput(output);
        handedOver = true;
      }
    }
    return { sha256: hash.digest('hex'), size: total };
  } finally {
    // Nothing may still use a handle (or a buffer) when it is closed.
    await Promise.allSettled([reading, flushing, ...busy]);
    await input.close();
    await direct?.fh.close();
    if (!handedOver) await output?.close();
  }
}

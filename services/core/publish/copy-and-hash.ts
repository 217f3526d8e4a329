import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { PublishError } from '../errors/publish-error';
import { syncHandle } from './fsync';
import type { TreeEntry } from './scan-source';

/**
 * Bytes per read and write of a file copied on its own. Measured on the 2-core bench machine
 * (1 GiB, medians): 8 MiB chunks ~1.4 s, 1 MiB ~1.9 s: fewer, larger writes go faster through
 * the page cache. Two such buffers per copy in flight.
 */
const CHUNK = 8 * 1024 * 1024;
/** Bytes per hash update: SHA-256 runs on the event loop, half a millisecond per slice. */
const HASH_SLICE = 512 * 1024;

/** What a copy may be told while it runs. */
export interface CopyControl {
  /** Aborts the copy (lost lease, shutdown); checked between chunks. */
  signal?: AbortSignal;
  /** Called after every chunk with the bytes just moved (drives lease extension and metrics). */
  onBytes?: (n: number) => void;
  /** Waits after every chunk until the bandwidth limit lets the copy go on (the worker's shared limiter). */
  pace?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  /** Bytes per read and write (default 8 MiB); smaller when many copies run at once, to bound memory. */
  chunkBytes?: number;
}

/** Throws the signal's reason when aborted. */
export function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new PublishError('internal', 'copy aborted');
}

/** A promise awaited later: marked handled now, so a failure while another step is awaited is not reported as unhandled. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

async function writeAll(output: fs.FileHandle, piece: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < piece.length) off += (await output.write(piece, off, piece.length - off, position + off)).bytesWritten;
}

/**
 * Hashes a file with SHA-256 while reading it; when `dest` is given, writes each chunk to it
 * (created exclusively), so the digest is computed from exactly the bytes moved. Double-buffered:
 * chunk n+1 is read and chunk n written on the thread pool while chunk n is hashed on the event
 * loop in 512 KiB slices, so no step blocks the loop for long. The copy then gets the source's
 * mode and mtime and is fsynced before close. Verifies the bytes read equal the size seen before the copy and that
 * the source's size and mtime are unchanged afterwards (else `source_changed`).
 */
export async function copyAndHash(src: string, dest: string | undefined, expected: TreeEntry, ctl: CopyControl = {}): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  // One byte more than expected: a short read then means end of file without a second read, and
  // a file that grew shows up at once.
  const chunk = ctl.chunkBytes ?? CHUNK;
  const want = Math.min(chunk, expected.size + 1);
  const bufs = [Buffer.allocUnsafe(want), Buffer.allocUnsafe(want)];
  const input = await fs.open(src, 'r');
  let output: fs.FileHandle | undefined;
  let reading: Promise<{ bytesRead: number }> | undefined;
  let writing: Promise<void> | undefined;
  try {
    if (dest) output = await fs.open(dest, 'wx', 0o600);
    let total = 0;
    let turn = 0;
    reading = later(input.read(bufs[0]!, 0, want, 0));
    for (;;) {
      checkAborted(ctl.signal);
      const { bytesRead }: { bytesRead: number } = await reading;
      reading = undefined;
      if (bytesRead === 0) break;
      const piece = bufs[turn]!.subarray(0, bytesRead);
      // The other buffer is free once its write is done: read ahead into it.
      await writing;
      writing = undefined;
      if (bytesRead === want) reading = later(input.read(bufs[1 - turn]!, 0, want, total + bytesRead));
      if (output) writing = later(writeAll(output, piece, total));
      for (let off = 0; off < bytesRead; off += HASH_SLICE) hash.update(piece.subarray(off, Math.min(bytesRead, off + HASH_SLICE)));
      total += bytesRead;
      ctl.onBytes?.(bytesRead);
      if (ctl.pace) await ctl.pace(bytesRead, ctl.signal);
      // A short read is the end of a regular file.
      if (!reading) break;
      turn = 1 - turn;
    }
    await writing;
    writing = undefined;
    const after = await input.stat();
    if (total !== expected.size || after.size !== expected.size || after.mtimeMs !== expected.mtimeMs) {
      throw new PublishError('source_changed', `${src} changed while it was copied`);
    }
    if (output) {
      await Promise.all([output.chmod(expected.mode), output.utimes(expected.atime, expected.mtime)]);
      await syncHandle(output, dest!);
    }
    return { sha256: hash.digest('hex'), size: total };
  } finally {
    // Nothing may still use a handle (or a buffer) when it is closed.
    await Promise.allSettled([reading, writing]);
    await input.close();
    await output?.close();
  }
}

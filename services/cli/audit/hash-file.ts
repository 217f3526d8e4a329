import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Throttle } from './throttle';

/** SHA-256 and length of a file, read in 1 MiB chunks at the throttle's pace. */
export async function hashFile(file: string, throttle: Throttle): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  // for-await pulls one chunk at a time, so the throttle's wait really slows the disk reads.
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    size += buf.length;
    await throttle.consume(buf.length);
  }
  return { sha256: hash.digest('hex'), size };
}

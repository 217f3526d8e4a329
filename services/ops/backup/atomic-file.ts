import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Writes a file under a temporary name in the same directory, fsyncs it, then renames it into place. */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Flushes a file's bytes to disk before it is renamed into place. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a rename durable: the directory entry is only on disk once the directory is synced. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await fh.close();
  }
}

/** SHA-256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('error', reject)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The line `sha256sum` prints and `sha256sum -c` reads. */
export function sha256Line(hex: string, file: string): string {
  return `${hex}  ${path.basename(file)}\n`;
}

/** Reads the hex digest from a `.sha256` file. */
export async function readSha256File(file: string): Promise<string | undefined> {
  try {
    const m = /^([0-9a-f]{64})\b/.exec(await fsp.readFile(file, 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

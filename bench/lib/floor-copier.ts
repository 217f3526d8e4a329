import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';

// The floor publisher's file work, on a thread of its own with synchronous calls: one message a
// group each way instead of a hand-over to libuv's pool per call (the cheapest way Node has,
// docs/performance.md, seventh pass). What a published small file needs and nothing more: the
// source opened inside its directory without following a link or blocking on a FIFO, read and
// hashed, checked unchanged, the copy created exclusively, written and fdatasynced, linked under
// its final name, the group's final directory fsynced once; later the sources unlinked and their
// directories fsynced once.

const C = fs.constants;

/** A group's copies: each source (inside stageRoot) to `${productsRoot}/${final}`, through `${tmpDir}`. */
export interface CopyRequest {
  op: 'copy';
  stageRoot: string;
  tmpDir: string;
  finalDir: string;
  items: Array<{ source: string; name: string }>;
}

/** A group's sources to remove once their copies are committed. */
export interface RemoveRequest {
  op: 'remove';
  stageRoot: string;
  sources: string[];
}

/** Per item: the digest and size, or the error's text. */
export type CopyReply = Array<{ sha256: string; size: number } | { error: string }>;

const dirCache = new Map<string, number>();

/** A directory under the stage root, opened component by component without following links; kept open for the run. */
function stageDir(stageRoot: string, rel: string): number {
  const key = `${stageRoot}\0${rel}`;
  let fd = dirCache.get(key);
  if (fd !== undefined) return fd;
  fd = fs.openSync(stageRoot, C.O_RDONLY | C.O_DIRECTORY);
  for (const part of rel.split('/').filter(Boolean)) {
    if (part === '..' || part === '.') throw new Error('path outside the stage');
    const next = fs.openSync(`/proc/self/fd/${fd}/${part}`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    fs.closeSync(fd);
    fd = next;
  }
  dirCache.set(key, fd);
  return fd;
}

function splitSource(source: string): { dir: string; name: string } {
  const i = source.lastIndexOf('/');
  return { dir: i < 0 ? '' : source.slice(0, i), name: source.slice(i + 1) };
}

function copyOne(req: CopyRequest, item: CopyRequest['items'][number], tmpFd: number, finalFd: number): { sha256: string; size: number } {
  const { dir, name } = splitSource(item.source);
  const src = fs.openSync(`/proc/self/fd/${stageDir(req.stageRoot, dir)}/${name}`, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
  let out: number | undefined;
  try {
    const before = fs.fstatSync(src);
    if (!before.isFile()) throw new Error('not a regular file');
    const buf = Buffer.allocUnsafe(before.size + 1);
    const n = fs.readSync(src, buf, 0, buf.length, 0);
    const after = fs.fstatSync(src);
    if (n !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new Error('source changed');
    const sha256 = crypto.createHash('sha256').update(buf.subarray(0, n)).digest('hex');
    out = fs.openSync(`/proc/self/fd/${tmpFd}/${item.name}`, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o444);
    if (fs.writeSync(out, buf, 0, n, 0) !== n) throw new Error('short write');
    fs.fdatasyncSync(out);
    fs.linkSync(`/proc/self/fd/${tmpFd}/${item.name}`, `/proc/self/fd/${finalFd}/${item.name}`);
    fs.unlinkSync(`/proc/self/fd/${tmpFd}/${item.name}`);
    return { sha256, size: n };
  } finally {
    fs.closeSync(src);
    if (out !== undefined) fs.closeSync(out);
  }
}

function copyGroup(req: CopyRequest): CopyReply {
  const tmpFd = fs.openSync(req.tmpDir, C.O_RDONLY | C.O_DIRECTORY);
  const finalFd = fs.openSync(req.finalDir, C.O_RDONLY | C.O_DIRECTORY);
  try {
    const reply: CopyReply = req.items.map((item) => {
      try {
        return copyOne(req, item, tmpFd, finalFd);
      } catch (err) {
        return { error: (err as Error).message };
      }
    });
    // Every new name durable before the commit; one fsync for the group.
    fs.fsyncSync(finalFd);
    return reply;
  } finally {
    fs.closeSync(tmpFd);
    fs.closeSync(finalFd);
  }
}

function removeSources(req: RemoveRequest): void {
  const dirs = new Set<number>();
  for (const source of req.sources) {
    const { dir, name } = splitSource(source);
    const fd = stageDir(req.stageRoot, dir);
    fs.unlinkSync(`/proc/self/fd/${fd}/${name}`);
    dirs.add(fd);
  }
  for (const fd of dirs) fs.fsyncSync(fd);
}

parentPort!.on('message', (req: CopyRequest | RemoveRequest) => {
  try {
    parentPort!.postMessage(req.op === 'copy' ? { ok: copyGroup(req) } : (removeSources(req), { ok: true }));
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message });
  }
});

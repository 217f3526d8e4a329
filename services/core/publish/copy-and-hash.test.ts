import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { constants as C } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createTestRoots, writeFile, type TestRoots } from '../../../test/support/dirs';
import { PublishError } from '../errors/publish-error';
import { copyAndHash, type CopyObserver } from './copy-and-hash';
import { openRoot } from './dir-handle';
import { scanTree } from './scan-source';

const MiB = 1024 * 1024;

describe('copyAndHash', () => {
  let roots: TestRoots;
  let stage: FileHandle;
  let products: FileHandle;
  beforeAll(async () => {
    roots = await createTestRoots();
    stage = await openRoot(roots.stageRoot);
    products = await openRoot(roots.productsRoot);
  });
  afterAll(async () => {
    await stage.close();
    await products.close();
    await roots.cleanup();
  });

  async function roundTrip(name: string, content: Buffer, chunkBytes?: number, directMinBytes?: number) {
    await writeFile(roots.stageRoot, name, content);
    const dest = path.join(roots.productsRoot, name);
    const snap = await scanTree(stage, name, 'file', name);
    const moved: number[] = [];
    const r = await copyAndHash(stage, name, { dir: products, name }, snap.entries[0]!, { onBytes: (n) => moved.push(n), chunkBytes, directMinBytes });
    return { r, dest, moved };
  }

  /** Bytes of the file held in the page cache, as util-linux's fincore counts them. */
  function cachedBytes(file: string): number {
    return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
  }

  /** Whether the products root's file system takes O_DIRECT (else the copy must fall back to the page cache). */
  async function takesDirect(): Promise<boolean> {
    const probe = path.join(roots.productsRoot, '.direct-probe');
    await fs.writeFile(probe, '');
    try {
      await (await fs.open(probe, C.O_WRONLY | C.O_DIRECT)).close();
      return true;
    } catch {
      return false;
    } finally {
      await fs.rm(probe);
    }
  }

  it('writes a large file around the page cache: same bytes and digest, only the partial last block cached', async () => {
    const size = 3 * 4 * MiB + 2 * 4096 + 17;
    const content = crypto.randomBytes(size);
    const { r, dest, moved } = await roundTrip('direct.bin', content, undefined, 8 * MiB);
    expect(r).toEqual({ sha256: crypto.createHash('sha256').update(content).digest('hex'), size });
    // 4 MiB direct chunks, the last one short.
    expect(moved).toEqual([4 * MiB, 4 * MiB, 4 * MiB, 2 * 4096 + 17]);
    // Before anything reads it back: with O_DIRECT only the last, partial block went through the
    // cache; where the file system refuses O_DIRECT, all of it did.
    expect(cachedBytes(dest)).toBe((await takesDirect()) ? 4096 : size + 4096 - (size % 4096));
    expect((await fs.readFile(dest)).equals(content)).toBe(true);
  });

  it('writes a file below the direct threshold, or with direct writes off, through the page cache', async () => {
    const content = crypto.randomBytes(8 * MiB + 5);
    const below = await roundTrip('below.bin', content, undefined, 8 * MiB + 6);
    const off = await roundTrip('off.bin', content, undefined, 0);
    for (const { r, dest } of [below, off]) {
      expect(r.sha256).toBe(crypto.createHash('sha256').update(content).digest('hex'));
      expect(cachedBytes(dest)).toBe(8 * MiB + 4096);
    }
  });

  it('goes on through the page cache when the file system refuses a direct write (EINVAL)', async () => {
    // Buffers 16 bytes off a page boundary: the kernel refuses O_DIRECT writes from them, as a file
    // system needing more alignment than the copy gives would.
    const misaligned: CopyObserver = {
      allocate: (n) => Buffer.from(new WebAssembly.Memory({ initial: Math.ceil((n + 16) / 65536) }).buffer, 16, n),
      observe: async () => undefined,
    };
    const content = crypto.randomBytes(3 * 4 * MiB + 5);
    await writeFile(roots.stageRoot, 'refused.bin', content);
    const snap = await scanTree(stage, 'refused.bin', 'file', 'refused.bin');
    const r = await copyAndHash(stage, 'refused.bin', { dir: products, name: 'refused.bin' }, snap.entries[0]!, { directMinBytes: 1, observer: misaligned });
    expect(r.sha256).toBe(crypto.createHash('sha256').update(content).digest('hex'));
    const dest = path.join(roots.productsRoot, 'refused.bin');
    // All of it went through the cache (where O_DIRECT is taken at all), and all of it arrived.
    if (await takesDirect()) expect(cachedBytes(dest)).toBe(3 * 4 * MiB + 4096);
    expect((await fs.readFile(dest)).equals(content)).toBe(true);
  });

  it('writes directly in whole blocks when a bandwidth limit asks for chunks that are not', async () => {
    const content = crypto.randomBytes(MiB + 3);
    const { r, dest, moved } = await roundTrip('odd-chunks.bin', content, 100_000, 1);
    expect(r.sha256).toBe(crypto.createHash('sha256').update(content).digest('hex'));
    expect(new Set(moved.slice(0, -1))).toEqual(new Set([98_304]));
    expect((await fs.readFile(dest)).equals(content)).toBe(true);
  });

  it.each([
    ['an empty file', 0],
    ['a file smaller than one chunk', 1000],
    ['a file of exactly two chunks', 16 * MiB],
    ['a file of several chunks and a tail', 2 * 8 * MiB + 17],
  ])('copies %s byte for byte, with the SHA-256 of the bytes moved', async (_label, size) => {
    const content = crypto.randomBytes(size);
    const { r, dest, moved } = await roundTrip(`f-${size}.bin`, content);
    expect(r).toEqual({ sha256: crypto.createHash('sha256').update(content).digest('hex'), size });
    expect((await fs.readFile(dest)).equals(content)).toBe(true);
    expect(moved.reduce((a, b) => a + b, 0)).toBe(size);
  });

  it('copies in small chunks when told to, with the same digest', async () => {
    const content = crypto.randomBytes(3 * MiB + 5);
    const { r, moved } = await roundTrip('small-chunks.bin', content, MiB);
    expect(r.sha256).toBe(crypto.createHash('sha256').update(content).digest('hex'));
    expect(moved).toEqual([MiB, MiB, MiB, 5]);
  });

  it('reports source_changed when the file grew after it was scanned, and leaves no open handle behind', async () => {
    const src = await writeFile(roots.stageRoot, 'grows.bin', crypto.randomBytes(MiB + 5));
    const snap = await scanTree(stage, 'grows.bin', 'file', 'grows.bin');
    await fs.appendFile(src, 'more');
    const err = await copyAndHash(stage, 'grows.bin', { dir: products, name: 'grows.bin' }, snap.entries[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).errorClass).toBe('source_changed');
    await fs.rm(path.join(roots.productsRoot, 'grows.bin'));
  });

  it.each([
    ['cut short', (src: string) => fs.truncate(src, 5 * MiB + 3)],
    ['grown', (src: string) => fs.appendFile(src, 'more')],
  ])('reports source_changed when a file written directly is %s in the middle of its copy', async (how, change) => {
    const name = `direct-${how.replace(' ', '-')}.bin`;
    const src = await writeFile(roots.stageRoot, name, crypto.randomBytes(4 * 4 * MiB));
    const snap = await scanTree(stage, name, 'file', name);
    let chunks = 0;
    // After the first chunk, while the next reads and the direct writes are in flight.
    const pace = async () => {
      if (++chunks === 1) await change(src);
    };
    const err = await copyAndHash(stage, name, { dir: products, name }, snap.entries[0]!, { directMinBytes: 1, pace }).catch((e: unknown) => e);
    expect(chunks).toBeGreaterThan(1);
    expect((err as PublishError).errorClass).toBe('source_changed');
    await fs.rm(path.join(roots.productsRoot, name));
  });

  it('stops at the abort signal with its reason', async () => {
    await writeFile(roots.stageRoot, 'aborted.bin', crypto.randomBytes(2 * MiB));
    const snap = await scanTree(stage, 'aborted.bin', 'file', 'aborted.bin');
    const ctl = new AbortController();
    ctl.abort(new PublishError('internal', 'stop now'));
    await expect(copyAndHash(stage, 'aborted.bin', { dir: products, name: 'aborted.bin' }, snap.entries[0]!, { signal: ctl.signal })).rejects.toThrow('stop now');
  });

  it('refuses a file replaced after the scan (another inode at the same name): source_changed, nothing read', async () => {
    const src = await writeFile(roots.stageRoot, 'swapped.bin', crypto.randomBytes(MiB));
    const snap = await scanTree(stage, 'swapped.bin', 'file', 'swapped.bin');
    await fs.rm(src);
    await writeFile(roots.stageRoot, 'swapped.bin', crypto.randomBytes(MiB));
    const err = await copyAndHash(stage, 'swapped.bin', undefined, snap.entries[0]!).catch((e: unknown) => e);
    expect((err as PublishError).errorClass).toBe('source_changed');
  });

  it('never follows a symlink put in place of a scanned file', async () => {
    await writeFile(roots.stageRoot, 'linked.bin', crypto.randomBytes(MiB));
    const snap = await scanTree(stage, 'linked.bin', 'file', 'linked.bin');
    const outside = await writeFile(roots.base, 'outside/target.bin', crypto.randomBytes(MiB));
    await fs.rm(path.join(roots.stageRoot, 'linked.bin'));
    await fs.symlink(outside, path.join(roots.stageRoot, 'linked.bin'));
    const err = await copyAndHash(stage, 'linked.bin', undefined, snap.entries[0]!).catch((e: unknown) => e);
    expect((err as PublishError).errorClass).toBe('source_changed');
  });
});

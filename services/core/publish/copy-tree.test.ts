import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createTestRoots, writeFile, type TestRoots } from '../../../test/support/dirs';
import { waitFor } from '../../../test/support/wait-for';
import { PublishError } from '../errors/publish-error';
import { classifyError } from './classify-error';
import { copyTree, type TreeDigest } from './copy-tree';
import { openRoot } from './dir-handle';
import type { FileCopyJob } from './file-thread';
import { copyOnThreads, fileThreadsAvailable, fileThreadsRunning, setFileThreadsIdleStop, stopFileThreads } from './file-threads';
import { scanTree } from './scan-source';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('copyTree of a directory product', () => {
  let roots: TestRoots;
  let stage: FileHandle;
  let products: FileHandle;
  let n = 0;
  beforeAll(async () => {
    roots = await createTestRoots();
    stage = await openRoot(roots.stageRoot);
    products = await openRoot(roots.productsRoot);
  });
  afterAll(async () => {
    await stopFileThreads();
    await stage.close();
    await products.close();
    await roots.cleanup();
  });

  /** A tree whose files straddle the file threads' limit (1 MiB): empty, tiny, 128 KiB, exactly 1 MiB, one byte more, 3 MiB. */
  async function stageTree(): Promise<{ name: string; files: Map<string, Buffer> }> {
    const name = `tree-${++n}.ms`;
    const files = new Map<string, Buffer>();
    const sizes = [0, 1, 128 * KiB, MiB, MiB + 1, 3 * MiB];
    for (let i = 0; i < 40; i++) files.set(`sub${i % 3}/deeper${i % 2}/f${i}.dat`, crypto.randomBytes(sizes[i % sizes.length]!));
    for (const [rel, content] of files) await writeFile(roots.stageRoot, `${name}/${rel}`, content);
    // Times with fractions of a millisecond: the walk's dates must be the ones fs.lstat gives.
    await fs.utimes(path.join(roots.stageRoot, name, 'sub1/deeper1/f7.dat'), 1.7e9 + 0.1234567, 1.7e9 + 0.9876543);
    return { name, files };
  }

  async function copy(name: string, opts: { hashOnly?: boolean; onBytes?: (n: number) => void; signal?: AbortSignal } = {}): Promise<TreeDigest> {
    const snap = await scanTree(stage, name, 'directory', name);
    return copyTree({ dir: stage, name, label: `STAGE_ROOT/${name}` }, opts.hashOnly ? undefined : { dir: products, name }, snap, opts);
  }

  function expectManifest(digest: TreeDigest, files: Map<string, Buffer>): void {
    expect(digest.fileCount).toBe(files.size);
    expect(new Map(digest.manifest!.map((e) => [e.path, e.sha256]))).toEqual(new Map([...files].map(([rel, b]) => [rel, sha256(b)])));
  }

  it('copies small files on the file threads and larger ones through the thread pool: every digest, byte, mode and time as the source', async () => {
    const { name, files } = await stageTree();
    const odd = path.join(roots.stageRoot, name, 'sub0/deeper0/f0.dat');
    await fs.chmod(odd, 0o4777);
    const when = new Date('2024-03-01T12:00:00.250Z');
    await fs.utimes(odd, when, when);
    let moved = 0;
    const digest = await copy(name, { onBytes: (b) => (moved += b) });
    expect(fileThreadsRunning()).toBe(true);
    expectManifest(digest, files);
    expect(moved).toBe([...files.values()].reduce((s, b) => s + b.length, 0));
    for (const [rel, content] of files) expect((await fs.readFile(path.join(roots.productsRoot, name, rel))).equals(content)).toBe(true);
    const st = await fs.stat(path.join(roots.productsRoot, name, 'sub0/deeper0/f0.dat'));
    expect(st.mode & 0o7777).toBe(0o755);
    expect(st.mtime.getTime()).toBe(when.getTime());
    // Hashing the same tree without copying it gives the same product.
    expect((await copy(name, { hashOnly: true })).sha256).toBe(digest.sha256);
  });

  it('never reads a file swapped for a symlink to an outside file after the scan: source_changed', async () => {
    const { name } = await stageTree();
    const snap = await scanTree(stage, name, 'directory', name);
    const outside = await writeFile(roots.base, `outside-${n}/secret.dat`, Buffer.from('outside the stage'));
    const victim = path.join(roots.stageRoot, name, 'sub1/deeper1/f1.dat');
    await fs.rm(victim);
    await fs.symlink(outside, victim);
    const err = await copyTree({ dir: stage, name, label: `STAGE_ROOT/${name}` }, { dir: products, name }, snap).catch((e: unknown) => e);
    expect((err as PublishError).errorClass).toBe('source_changed');
    expect((err as Error).message).toBe(`STAGE_ROOT/${name}/sub1/deeper1/f1.dat was replaced or removed after it was scanned`);
    await expect(fs.readFile(path.join(roots.productsRoot, name, 'sub1/deeper1/f1.dat'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    // Another inode at the same name: refused before any read; the open never blocks on a FIFO.
    // Made beside it and renamed over it, so the FIFO cannot reuse the file's inode number.
    ['swapped for a FIFO', async (file: string) => {
      execFileSync('mkfifo', [`${file}.fifo`]);
      await fs.rename(`${file}.fifo`, file);
    }, 'was replaced or removed after it was scanned'],
    ['grown', (file: string) => fs.appendFile(file, 'more'), 'changed while it was copied'],
    ['cut short', (file: string) => fs.truncate(file, 7), 'changed while it was copied'],
  ])('refuses a small file %s after the scan: source_changed', async (_how, change, why) => {
    const { name } = await stageTree();
    const snap = await scanTree(stage, name, 'directory', name);
    const rel = 'sub2/deeper0/f2.dat';
    await change(path.join(roots.stageRoot, name, rel));
    const err = await copyTree({ dir: stage, name, label: name }, { dir: products, name }, snap).catch((e: unknown) => e);
    expect((err as PublishError).errorClass).toBe('source_changed');
    expect((err as Error).message).toBe(`${name}/${rel} ${why}`);
  });

  it('carries a failed call\'s errno code out of the thread, so the attempt is classified as before', async () => {
    const { name } = await stageTree();
    const snap = await scanTree(stage, name, 'directory', name);
    // The same small file twice in one tree: whichever copy comes second finds the other's file
    // at its name, and the exclusive create fails.
    const twice = snap.entries.find((e) => e.rel === 'sub0/deeper0/f6.dat')!;
    const err = await copyTree({ dir: stage, name, label: name }, { dir: products, name }, { ...snap, entries: [...snap.entries, twice], fileCount: snap.fileCount + 1 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EEXIST', syscall: 'open' });
    expect(classifyError(err).errorClass).toBe('internal');
  });

  it.each([
    ['a symbolic link', (file: string) => fs.symlink('/etc/passwd', file), 'a symbolic link'],
    ['a FIFO', (file: string) => Promise.resolve(execFileSync('mkfifo', [file])), 'a FIFO'],
  ])('refuses a tree holding %s when it walks it', async (_what, make, described) => {
    const { name } = await stageTree();
    await make(path.join(roots.stageRoot, name, 'sub2/odd'));
    const err = await scanTree(stage, name, 'directory', name).catch((e: unknown) => e);
    expect(err).toMatchObject({ errorClass: 'unsupported_file_type' });
    expect((err as Error).message).toBe(`${name}/sub2/odd is ${described}; a directory product may hold only regular files and directories`);
  });

  it('stops its idle threads, and starts them again for the next copy', async () => {
    const { name, files } = await stageTree();
    setFileThreadsIdleStop(20);
    try {
      await copy(name, { hashOnly: true });
      await waitFor(() => !fileThreadsRunning(), 5000, 'the idle file threads to stop', 10);
      let onThreads = false;
      expectManifest(await copy(name, { hashOnly: true, onBytes: () => (onThreads ||= fileThreadsRunning()) }), files);
      expect(onThreads).toBe(true);
    } finally {
      setFileThreadsIdleStop(30_000);
    }
  });

  it('stops at the abort signal with its reason', async () => {
    const { name } = await stageTree();
    const ctl = new AbortController();
    ctl.abort(new PublishError('internal', 'stop now'));
    await expect(copy(name, { signal: ctl.signal })).rejects.toThrow('stop now');
  });

  it('when a file thread dies, fails only the batch it held, then walks and copies through the thread pool with the same results', async () => {
    const { name, files } = await stageTree();
    const before = await copy(name, { hashOnly: true });
    const walked = await scanTree(stage, name, 'directory', name);
    // A batch the thread cannot read: it throws, uncaught, and the thread exits.
    await expect(copyOnThreads(null as unknown as FileCopyJob[])).rejects.toThrow(/file thread stopped/);
    expect(fileThreadsAvailable()).toBe(false);
    // The thread pool's walk (fs.lstat's own Stats) sees the very entries the threads' walk saw.
    expect(await scanTree(stage, name, 'directory', name)).toEqual(walked);
    const after = await copy(name);
    expect(after.sha256).toBe(before.sha256);
    expectManifest(after, files);
    await stopFileThreads();
    expect(fileThreadsAvailable()).toBe(true);
  });
});

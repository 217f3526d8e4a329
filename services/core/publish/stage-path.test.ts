import fs from 'node:fs/promises';
import path from 'node:path';
import { createTestRoots, writeFile, type TestRoots } from '../../../test/support/dirs';
import { ValidationError } from '../errors';
import { resolveStagePath } from './stage-path';

async function refusal(stageRoot: string, input: string): Promise<{ code: string; status: number; message: string }> {
  try {
    await resolveStagePath(stageRoot, input);
  } catch (err) {
    if (err instanceof ValidationError) return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('resolveStagePath', () => {
  let roots: TestRoots;
  let stage: string;
  beforeAll(async () => {
    roots = await createTestRoots();
    stage = roots.stageRoot;
    await writeFile(stage, 'mosaics/mosaic_abc.fits', 'x'.repeat(10));
    await writeFile(stage, 'a..b.fits', 'abc');
    await writeFile(stage, 'ms/obs1.ms/table.dat', '12345');
    await writeFile(stage, 'ms/obs1.ms/sub/part.bin', '123');
    await writeFile(stage, 'empty.fits', '');
    await fs.mkdir(path.join(stage, 'emptydir/inner'), { recursive: true });
    await writeFile(roots.base, 'outside/secret.txt', 'secret');
    await fs.symlink(path.join(roots.base, 'outside/secret.txt'), path.join(stage, 'escape.fits'));
    await fs.symlink(path.join(roots.base, 'outside'), path.join(stage, 'escape-dir'));
    await fs.symlink('mosaics/mosaic_abc.fits', path.join(stage, 'alias.fits'));
    await writeFile(stage, 'withlink/data.bin', 'abc');
    await fs.symlink('/etc/hostname', path.join(stage, 'withlink/link'));
    await writeFile(stage, '.ferry-tmp/x.fits', 'abc');
  });
  afterAll(() => roots.cleanup());

  it('resolves a relative file path and measures it', async () => {
    const s = await resolveStagePath(stage, 'mosaics/mosaic_abc.fits');
    expect(s).toEqual({
      relativePath: 'mosaics/mosaic_abc.fits',
      absolutePath: path.join(await fs.realpath(stage), 'mosaics/mosaic_abc.fits'),
      kind: 'file',
      sizeBytes: 10,
      fileCount: 1,
    });
  });

  it('accepts an absolute path inside the stage root', async () => {
    const s = await resolveStagePath(stage, path.join(stage, 'mosaics/mosaic_abc.fits'));
    expect(s.relativePath).toBe('mosaics/mosaic_abc.fits');
  });

  it('accepts a name that merely contains two dots', async () => {
    expect((await resolveStagePath(stage, 'a..b.fits')).relativePath).toBe('a..b.fits');
  });

  it('normalises a `..` that stays inside the stage root', async () => {
    expect((await resolveStagePath(stage, 'ms/../mosaics/./mosaic_abc.fits')).relativePath).toBe('mosaics/mosaic_abc.fits');
  });

  it('measures a directory: total size and number of files', async () => {
    expect(await resolveStagePath(stage, 'ms/obs1.ms')).toMatchObject({ kind: 'directory', sizeBytes: 8, fileCount: 2, relativePath: 'ms/obs1.ms' });
  });

  it('follows a symlink that stays inside the stage root to its real path', async () => {
    expect((await resolveStagePath(stage, 'alias.fits')).relativePath).toBe('mosaics/mosaic_abc.fits');
  });

  it('refuses a `..` path that escapes the stage root', async () => {
    expect(await refusal(stage, '../outside/secret.txt')).toMatchObject({ code: 'path_outside_stage_root', status: 400 });
  });

  it('refuses an absolute path outside the stage root', async () => {
    expect(await refusal(stage, '/etc/hostname')).toMatchObject({ code: 'path_outside_stage_root', status: 400 });
  });

  it('refuses a symlink that escapes the stage root', async () => {
    expect(await refusal(stage, 'escape.fits')).toMatchObject({ code: 'path_outside_stage_root' });
    expect(await refusal(stage, 'escape-dir/secret.txt')).toMatchObject({ code: 'path_outside_stage_root' });
  });

  it('refuses the stage root itself', async () => {
    expect(await refusal(stage, '.')).toMatchObject({ code: 'invalid_stage_path' });
    expect(await refusal(stage, stage)).toMatchObject({ code: 'invalid_stage_path' });
  });

  it('refuses a NUL byte', async () => {
    expect(await refusal(stage, 'a\0b.fits')).toMatchObject({ code: 'invalid_stage_path', message: expect.stringContaining('NUL') });
  });

  it('refuses control characters', async () => {
    for (const bad of ['a\nb.fits', 'a\tb.fits', 'a\u001bb.fits', 'a\u007fb.fits']) {
      expect(await refusal(stage, bad)).toMatchObject({ code: 'invalid_stage_path', message: expect.stringContaining('control character') });
    }
  });

  it('refuses a name longer than 255 bytes and a path longer than 4096 bytes', async () => {
    expect(await refusal(stage, `${'n'.repeat(256)}.fits`)).toMatchObject({ code: 'invalid_stage_path', message: expect.stringContaining('255') });
    // 128 two-byte characters make 256 bytes: bytes count, not characters.
    expect(await refusal(stage, 'é'.repeat(128))).toMatchObject({ code: 'invalid_stage_path' });
    expect(await refusal(stage, Array.from({ length: 20 }, () => 'd'.repeat(250)).join('/'))).toMatchObject({
      code: 'invalid_stage_path',
      message: expect.stringContaining('4096'),
    });
  });

  it('refuses a missing source', async () => {
    expect(await refusal(stage, 'mosaics/nothing.fits')).toMatchObject({ code: 'source_missing', status: 422 });
  });

  it('refuses an empty file and a directory without files', async () => {
    expect(await refusal(stage, 'empty.fits')).toMatchObject({ code: 'source_empty', status: 422 });
    expect(await refusal(stage, 'emptydir')).toMatchObject({ code: 'source_empty', status: 422 });
  });

  it('refuses a directory that holds a symlink', async () => {
    expect(await refusal(stage, 'withlink')).toMatchObject({ code: 'source_not_regular', message: expect.stringContaining('withlink/link') });
  });

  it('refuses a FIFO', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(stage, 'pipe.fits')]);
    expect(await refusal(stage, 'pipe.fits')).toMatchObject({ code: 'source_not_regular', status: 422 });
  });

  it('refuses names reserved for Ferry', async () => {
    expect(await refusal(stage, '.ferry-tmp/x.fits')).toMatchObject({ code: 'reserved_path' });
  });
});

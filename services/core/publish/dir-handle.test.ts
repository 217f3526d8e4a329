import fs from 'node:fs/promises';
import path from 'node:path';
import { createTestRoots, writeFile, type TestRoots } from '../../../test/support/dirs';
import { openRoot, removeTreeAt } from './dir-handle';

describe('removeTreeAt', () => {
  let roots: TestRoots;
  beforeEach(async () => {
    roots = await createTestRoots();
  });
  afterEach(() => roots.cleanup());

  it('removes whatever is there when it is not what the caller expected, following no link', async () => {
    const outside = path.join(roots.base, 'outside');
    await writeFile(outside, 'keep.txt', 'keep');
    const dir = path.join(roots.stageRoot, 'd');
    await writeFile(dir, 'not-a-file/inner/x.bin', 'x'); // a tree where a file was expected
    await writeFile(dir, 'not-empty/y.bin', 'y'); // a non-empty directory where an empty one was
    await fs.symlink(outside, path.join(dir, 'link-to-dir')); // a link where a directory was
    await writeFile(dir, 'a-file', 'z'); // a file where a directory was
    const fh = await openRoot(dir);
    try {
      await removeTreeAt(fh, 'not-a-file', 'file');
      await removeTreeAt(fh, 'not-empty', 'empty directory');
      await removeTreeAt(fh, 'link-to-dir', 'empty directory');
      await removeTreeAt(fh, 'a-file', 'empty directory');
      await removeTreeAt(fh, 'missing', 'file');
    } finally {
      await fh.close();
    }
    expect(await fs.readdir(dir)).toEqual([]);
    expect(await fs.readFile(path.join(outside, 'keep.txt'), 'utf8')).toBe('keep');
  });
});

import fs from 'node:fs/promises';
import path from 'node:path';
import { createTestRoots, writeFile, type TestRoots } from '../../../test/support/dirs';
import { openRoot, type Identity } from './dir-handle';
import { trashStageEntries } from './stage-trash';

describe('trashStageEntries', () => {
  let roots: TestRoots;
  let outside: string;
  beforeEach(async () => {
    roots = await createTestRoots();
    outside = path.join(roots.base, 'outside');
    await writeFile(outside, 'keep.txt', 'keep');
  });
  afterEach(() => roots.cleanup());

  const trash = (name: string) => path.join(roots.stageRoot, '.ferry-tmp', name);
  const identity = async (p: string): Promise<Identity> => {
    const st = await fs.lstat(p);
    return { dev: st.dev, ino: st.ino };
  };
  /** Removes the named sources (files or directories directly under STAGE_ROOT/s) in one call. */
  const remove = async (names: string[], ids?: Identity[]) => {
    const parent = await openRoot(path.join(roots.stageRoot, 's'));
    try {
      return await trashStageEntries(roots.stageRoot, names.map((name, i) => ({
        trashName: `removed-${i}`, entry: { parent, name, relative: `s/${name}`, identity: ids?.[i] },
      })));
    } finally {
      await parent.close();
    }
  };

  it('removes file and directory sources even where a crashed run left a trash of the same name, of any kind, never following a link', async () => {
    for (const f of ['a.fits', 'b.fits', 'd.fits']) await writeFile(roots.stageRoot, `s/${f}`, f);
    for (const d of ['c.ms', 'e.ms', 'f.ms']) await writeFile(roots.stageRoot, `s/${d}/table.dat`, d);
    // Leftovers in the way, one of each kind the rename cannot replace or must replace without following.
    await writeFile(trash('removed-0'), 'old/x.bin', 'old'); // a non-empty directory, for a file
    await writeFile(trash(''), 'removed-1', 'old'); // a file, for a directory
    await fs.symlink(outside, trash('removed-2')); // a link to a directory outside, for a file
    await fs.symlink(outside, trash('removed-3')); // the same, for a directory
    await fs.mkdir(trash('removed-4')); // an empty directory, for a file
    await fs.mkdir(trash('removed-5')); // an empty directory, for a directory

    expect(await remove(['a.fits', 'c.ms', 'b.fits', 'e.ms', 'd.fits', 'f.ms'])).toEqual(Array(6).fill(undefined));

    expect(await fs.readdir(path.join(roots.stageRoot, 's'))).toEqual([]);
    expect(await fs.readdir(trash(''))).toEqual([]);
    expect(await fs.readFile(path.join(outside, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('leaves a source that is no longer the entry scanned, and removes the others', async () => {
    await writeFile(roots.stageRoot, 's/a.fits', 'a');
    await writeFile(roots.stageRoot, 's/b.fits', 'b');
    const ids = [await identity(path.join(roots.stageRoot, 's/a.fits')), await identity(path.join(roots.stageRoot, 's/b.fits'))];
    // b.fits replaced by a directory after its scan (made first, so it cannot reuse the inode).
    await fs.mkdir(path.join(roots.stageRoot, 's/new'));
    await fs.rm(path.join(roots.stageRoot, 's/b.fits'));
    await fs.rename(path.join(roots.stageRoot, 's/new'), path.join(roots.stageRoot, 's/b.fits'));

    expect(await remove(['a.fits', 'b.fits'], ids)).toEqual([undefined, undefined]);

    expect(await fs.readdir(path.join(roots.stageRoot, 's'))).toEqual(['b.fits']);
    expect((await fs.lstat(path.join(roots.stageRoot, 's/b.fits'))).isDirectory()).toBe(true);
    expect(await fs.readdir(trash(''))).toEqual([]);
  });
});

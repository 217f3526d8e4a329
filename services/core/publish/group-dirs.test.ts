import { createTestRoots, type TestRoots } from '../../../test/support/dirs';
import { availableBytes } from './free-space';
import { GroupDirs } from './group-dirs';

describe('GroupDirs', () => {
  let roots: TestRoots;
  beforeEach(async () => {
    roots = await createTestRoots();
  });
  afterEach(() => roots.cleanup());

  it("counts the space its members' copies reserved: together they must leave the margin, though nothing is written yet", async () => {
    const dirs = await GroupDirs.open(roots, '0b7e3c1e-1111-4222-8333-444455556666');
    try {
      const half = Math.floor((await availableBytes(roots.productsRoot)) / 2);
      const margin = 1024 * 1024;
      await dirs.reserveSpace(half, margin);
      // Each alone would fit; both, with the margin, do not. A smaller one still does.
      await expect(dirs.reserveSpace(half, margin)).rejects.toMatchObject({ errorClass: 'no_space' });
      await dirs.reserveSpace(Math.floor(half / 2), margin);
    } finally {
      await dirs.close();
    }
  });
});

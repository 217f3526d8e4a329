import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { createTestRoots, writeFile, type TestRoots } from '../../../../test/support/dirs';
import { seedProduct } from '../../../../test/support/products';
import { removeOrphanTemporaries } from './remove-orphan-temporaries';

describe('removeOrphanTemporaries', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
  });
  afterAll(async () => {
    await db.drop();
    await roots.cleanup();
  });

  it('removes the copies of leases no row holds, and keeps held leases and foreign entries', async () => {
    const held = crypto.randomUUID();
    const gone = crypto.randomUUID();
    const product = await seedProduct(db.pool, { data_id: 'leased', status: 'publishing' });
    await db.pool.query(`UPDATE products SET lease_token = $1, lease_expires_at = now() + interval '1 minute' WHERE id = $2`, [held, product.id]);
    const tmp = path.join(roots.productsRoot, '.ferry-tmp');
    await writeFile(tmp, `${held}/leased.fits`, 'in progress');
    await writeFile(tmp, `${gone}/dead/worker.fits`, 'left behind');
    await writeFile(tmp, 'not-a-lease/file', 'an operator put this here');

    expect(await removeOrphanTemporaries(db.pool, roots.productsRoot)).toEqual([gone]);
    expect((await fs.readdir(tmp)).sort()).toEqual([held, 'not-a-lease'].sort());
    expect(await fs.readFile(path.join(tmp, held, 'leased.fits'), 'utf8')).toBe('in progress');
  });

  it('finds nothing to do when the temporary area does not exist yet', async () => {
    const empty = await createTestRoots();
    try {
      expect(await removeOrphanTemporaries(db.pool, empty.productsRoot)).toEqual([]);
    } finally {
      await empty.cleanup();
    }
  });
});

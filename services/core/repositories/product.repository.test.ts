import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { lockDestinations } from './product.repository';

describe('lockDestinations', () => {
  let db: TestDatabase;
  let holder: PoolClient;
  beforeAll(async () => {
    db = await createTestDatabase();
    holder = await db.pool.connect();
    await holder.query('BEGIN');
    await lockDestinations(holder, [{ dest: 'run1/d/a.fits', dataId: 'held' }]);
  });
  afterAll(async () => {
    await holder.query('ROLLBACK');
    holder.release();
    await db.drop();
  });

  /** Whether a second registration could take its locks while the first one holds its own. */
  async function canLock(dest: string, dataId: string): Promise<boolean> {
    return canLockAll([{ dest, dataId }]);
  }

  async function canLockAll(keys: Array<{ dest: string; dataId: string }>): Promise<boolean> {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL lock_timeout = '300ms'`);
      await lockDestinations(c, keys);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return false;
      throw err;
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  }

  it('lets a registration of an unrelated destination in the same directory proceed', async () => {
    expect(await canLock('run1/d/b.fits', 'other')).toBe(true);
  });

  it('blocks a registration of the same destination', async () => {
    expect(await canLock('run1/d/a.fits', 'other')).toBe(false);
  });

  it('blocks a registration of a directory that contains the destination', async () => {
    expect(await canLock('run1/d', 'other')).toBe(false);
  });

  it('blocks a registration nested inside the destination', async () => {
    expect(await canLock('run1/d/a.fits/inner', 'other')).toBe(false);
  });

  it('blocks a registration of the same data_id elsewhere', async () => {
    expect(await canLock('run2/x.fits', 'held')).toBe(false);
  });

  it('takes a batch\'s keys in one go, even where its own products share one shared and exclusive', async () => {
    expect(await canLockAll([{ dest: 'run3/a', dataId: 'x' }, { dest: 'run3/a/b', dataId: 'y' }, { dest: 'run3/c', dataId: 'x' }])).toBe(true);
  });

  it('blocks a batch when any one of its products collides', async () => {
    expect(await canLockAll([{ dest: 'run4/a.fits', dataId: 'p' }, { dest: 'run1/d/a.fits/inner', dataId: 'q' }])).toBe(false);
    expect(await canLockAll([{ dest: 'run4/a.fits', dataId: 'p' }, { dest: 'run4/b.fits', dataId: 'held' }])).toBe(false);
  });

  it('lets a batch of unrelated products proceed beside a registration in the same directory', async () => {
    expect(await canLockAll([{ dest: 'run1/d/b.fits', dataId: 'p' }, { dest: 'run1/d/c.fits', dataId: 'q' }])).toBe(true);
  });
});

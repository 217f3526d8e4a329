import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { lockDestination } from './product.repository';

describe('lockDestination', () => {
  let db: TestDatabase;
  let holder: PoolClient;
  beforeAll(async () => {
    db = await createTestDatabase();
    holder = await db.pool.connect();
    await holder.query('BEGIN');
    await lockDestination(holder, 'run1/d/a.fits', 'held');
  });
  afterAll(async () => {
    await holder.query('ROLLBACK');
    holder.release();
    await db.drop();
  });

  /** Whether a second registration could take its locks while the first one holds its own. */
  async function canLock(dest: string, dataId: string): Promise<boolean> {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL lock_timeout = '300ms'`);
      await lockDestination(c, dest, dataId);
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
});

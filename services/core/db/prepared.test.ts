import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { seedProduct } from '../../../test/support/products';
import { findProductDetail } from '../repositories/product-detail.repository';
import { findTokenByHash, insertToken } from '../repositories/token.repository';
import { listFailedDetailed } from '../repositories/lifecycle.repository';
import { readPublishFigures } from '../repositories/publish-status.repository';
import { prepared } from './prepared';

// A rolling upgrade migrates while the old replicas still serve, each holding its prepared
// statements on every pool connection: those statements must survive a column being added.
describe('prepared hot reads', () => {
  let db: TestDatabase;
  // One connection held throughout, so every call below reuses the statements prepared on it (the
  // pool would replace a connection whose query failed, hiding a broken statement).
  let conn: PoolClient;
  beforeAll(async () => {
    db = await createTestDatabase();
    conn = await db.pool.connect();
  });
  afterAll(async () => {
    conn.release();
    await db.drop();
  });

  const hotReads = async () => {
    const detail = await findProductDetail(conn, 'p-1');
    const token = await findTokenByHash(conn, 'a'.repeat(64));
    const failed = await listFailedDetailed(conn, { limit: 10, order: 'oldest' });
    const figures = await readPublishFigures(conn, 5, new Date(Date.now() - 86400_000));
    return { detail: detail?.product.data_id, token: token?.name, failed: failed.map((f) => f.data_id), failedCount: figures.counts.failed };
  };

  it('keep answering after a migration adds columns to the tables they read', async () => {
    await seedProduct(db.pool, { data_id: 'p-1', status: 'published', published_path: 'p-1.fits' });
    await seedProduct(db.pool, { data_id: 'p-2', status: 'failed', publish_attempts: 5 });
    await insertToken(db.pool, { name: 'pipeline', token_sha256: 'a'.repeat(64), scopes: ['read'] });
    const before = await hotReads();
    expect(before).toEqual({ detail: 'p-1', token: 'pipeline', failed: ['p-2'], failedCount: 1 });

    // A prepared SELECT * on the same connection is what breaks (so this test can tell).
    const star = prepared('SELECT * FROM products WHERE data_id = $1', ['p-1']);
    await conn.query(star);
    await db.pool.query('ALTER TABLE products ADD COLUMN added_by_a_later_release integer');
    await db.pool.query('ALTER TABLE api_tokens ADD COLUMN added_by_a_later_release integer');
    await db.pool.query('ALTER TABLE product_events ADD COLUMN added_by_a_later_release integer');
    await expect(conn.query(star)).rejects.toThrow(/cached plan must not change result type/);

    expect(await hotReads()).toEqual(before);
  });

  it('names a statement after its text, so each shape of a filtered query is prepared once', () => {
    expect(prepared('SELECT 1', []).name).toBe(prepared('SELECT 1', []).name);
    expect(prepared('SELECT 1', []).name).not.toBe(prepared('SELECT 2', []).name);
  });
});

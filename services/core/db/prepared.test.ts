import crypto from 'node:crypto';
import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { seedProduct } from '../../../test/support/products';
import { findProductDetail } from '../repositories/product-detail.repository';
import { findTokenByHash, insertToken } from '../repositories/token.repository';
import { listFailedDetailed } from '../repositories/lifecycle.repository';
import { readPublishFigures } from '../repositories/publish-status.repository';
import { confirmLeases, extendLease } from '../repositories/lease.repository';
import { findProductByDataId, lockDestinations } from '../repositories/product.repository';
import { recordClaimed, recordPublished, recordRegistered, recordSourceRemoved } from '../repositories/product-state';
import { prepared } from './prepared';

// A rolling upgrade migrates while the old replicas still serve, each holding its prepared
// statements on every pool connection: those statements (the api's hot reads, and every step of a
// publish) must survive a column being added.
describe('prepared hot statements', () => {
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

  // A product's whole publish, statement by statement as the api and worker run them.
  const publishPath = async (id: string) => {
    const dest = `${id}.fits`;
    await conn.query('BEGIN');
    await lockDestinations(conn, [{ dest, dataId: id }]);
    const row = await recordRegistered(conn, {
      data_id: id, data_type: 'image', stage_path: dest, destination_path: dest, kind: 'file', size_bytes: 1, file_count: 1, expected_sha256: null, metadata: {},
    });
    await conn.query('COMMIT');
    const lease = { token: crypto.randomUUID(), owner: 'w', seconds: 60 };
    const claimed = await recordClaimed(conn, { dataId: id, dueBy: new Date(Date.now() + 1000) }, lease);
    const extended = await extendLease(conn, claimed!.id, lease.token, 60);
    const confirmed = (await confirmLeases(conn, [{ id: claimed!.id, token: lease.token }], 60)).has(claimed!.id);
    const published = await recordPublished(conn, claimed!.id, lease.token, {
      published_path: dest, size_bytes: 1, file_count: 1, checksum_sha256: 'b'.repeat(64), manifest: null, source_cleanup_pending: true,
    }, { attempt: 1, durationMs: 1, worker: 'w' });
    const removed = await recordSourceRemoved(conn, claimed!.id, { worker: 'w' });
    const found = await findProductByDataId(conn, id);
    return [row?.status, claimed?.status, extended, confirmed, published?.status, removed, found?.status];
  };

  it('keep answering and writing after a migration adds columns to the tables they use', async () => {
    await seedProduct(db.pool, { data_id: 'p-1', status: 'published', published_path: 'p-1.fits' });
    await seedProduct(db.pool, { data_id: 'p-2', status: 'failed', publish_attempts: 5 });
    await insertToken(db.pool, { name: 'pipeline', token_sha256: 'a'.repeat(64), scopes: ['read'] });
    const before = await hotReads();
    expect(before).toEqual({ detail: 'p-1', token: 'pipeline', failed: ['p-2'], failedCount: 1 });
    const published = ['staging', 'publishing', true, true, 'published', true, 'published'];
    expect(await publishPath('w-1')).toEqual(published);

    // A prepared SELECT * on the same connection is what breaks (so this test can tell).
    const star = prepared('SELECT * FROM products WHERE data_id = $1', ['p-1']);
    await conn.query(star);
    await db.pool.query('ALTER TABLE products ADD COLUMN added_by_a_later_release integer');
    await db.pool.query('ALTER TABLE api_tokens ADD COLUMN added_by_a_later_release integer');
    await db.pool.query('ALTER TABLE product_events ADD COLUMN added_by_a_later_release integer');
    await expect(conn.query(star)).rejects.toThrow(/cached plan must not change result type/);

    expect(await hotReads()).toEqual(before);
    expect(await publishPath('w-2')).toEqual(published);
  });

  it('names a statement after its text, so each shape of a filtered query is prepared once', () => {
    expect(prepared('SELECT 1', []).name).toBe(prepared('SELECT 1', []).name);
    expect(prepared('SELECT 1', []).name).not.toBe(prepared('SELECT 2', []).name);
  });
});

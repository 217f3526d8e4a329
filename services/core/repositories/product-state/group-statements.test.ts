import { createTestDatabase, emptyRegistry, type TestDatabase } from '../../../../test/support/database';
import { keptOutcomes, outcomeHoursDrift, referenceOutcomes } from '../../../../test/support/outcome-history';
import { statusCountDrift } from '../../../../test/support/products';
import type { NewProduct } from '../product.repository';
import { recordClaimed, recordPublished, recordRegistered, recordSourceRemoved, type PublishedCommit } from '.';

// The multi-row forms of the transitions a batch registration and a group's commit use: one
// statement for many products, each product with its own checks, values and event.
describe('transitions of many products in one statement', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(() => emptyRegistry(db.pool));

  const product = (id: string, dest: string, extra: Partial<NewProduct> = {}): NewProduct => ({
    data_id: id, data_type: 'image', stage_path: dest, destination_path: dest, kind: 'file', size_bytes: 10, file_count: 1,
    expected_sha256: null, metadata: { id }, ...extra,
  });
  const events = async (event: string) => (await db.pool.query<{ data_id: string; attempt: number; bytes: number | null; duration_ms: number | null; worker: string | null; detail: unknown }>(
    'SELECT data_id, attempt, bytes, duration_ms, worker, detail FROM product_events WHERE event = $1 ORDER BY data_id', [event])).rows;

  it('registers many products in the order given, each with its own event, skipping those something is in the way of', async () => {
    expect(await recordRegistered(db.pool, product('old', 'run/old.fits'))).toBeDefined();
    const rows = await recordRegistered(db.pool, [
      product('a', 'run/a.fits', { due: false }),
      product('old', 'run/elsewhere.fits'),
      product('b', 'run/old.fits'),
      product('c', 'run/old.fits/inner'),
      product('d', 'run', { kind: 'directory' }),
      product('e', 'run/e.fits', { supersedes: 'old' }),
    ]);
    expect(rows.map((r) => r?.data_id)).toEqual(['a', undefined, undefined, undefined, undefined, 'e']);
    expect(rows[0]).toMatchObject({ held: true, due_at: null, metadata: { id: 'a' } });
    expect(rows[5]).toMatchObject({ held: false, supersedes: 'old' });
    expect(rows[0]!.id).toBeLessThan(rows[5]!.id);
    expect(await events('registered')).toEqual([
      { data_id: 'a', attempt: 0, bytes: null, duration_ms: null, worker: null, detail: null },
      { data_id: 'e', attempt: 0, bytes: null, duration_ms: null, worker: null, detail: { supersedes: 'old' } },
      { data_id: 'old', attempt: 0, bytes: null, duration_ms: null, worker: null, detail: null },
    ]);
    expect(await statusCountDrift(db.pool)).toEqual([]);
  });

  it('commits a group where each lease still holds, each with its own figures and event, and leaves a lost one untouched', async () => {
    await recordRegistered(db.pool, ['a', 'b', 'c'].map((id) => product(id, `g/${id}.fits`)));
    const claimed = await recordClaimed(db.pool, { group: { dataId: 'a', dueBy: new Date(), maxBytes: 100, limit: 3 } }, { owner: 'w1', seconds: 60 });
    expect(claimed).toHaveLength(3);
    // b's lease goes to another worker before the commit.
    await db.pool.query("UPDATE products SET lease_token = gen_random_uuid(), publish_attempts = 7 WHERE data_id = 'b'");
    const commits: PublishedCommit[] = claimed.map((r, i) => ({
      id: r.id, token: r.lease_token!, attempt: r.publish_attempts + i,
      fields: { published_path: r.destination_path, size_bytes: 100 + i, file_count: 1, checksum_sha256: String(i).repeat(64), manifest: null, source_cleanup_pending: true },
    }));
    const rows = await recordPublished(db.pool, commits, { durationMs: 12.4, worker: 'w1' });
    expect(rows.map((r) => r.data_id).sort()).toEqual(['a', 'c']);
    const byId = Object.fromEntries(claimed.map((r, i) => [r.data_id, i]));
    for (const r of rows) {
      const i = byId[r.data_id]!;
      expect(r).toMatchObject({ status: 'published', size_bytes: 100 + i, checksum_sha256: String(i).repeat(64), lease_token: null, source_removal_pending: true });
    }
    expect(await events('published')).toEqual([
      { data_id: 'a', attempt: 1 + byId.a!, bytes: 100 + byId.a!, duration_ms: 12, worker: 'w1', detail: null },
      { data_id: 'c', attempt: 1 + byId.c!, bytes: 100 + byId.c!, duration_ms: 12, worker: 'w1', detail: null },
    ]);
    const b = await db.pool.query("SELECT status, checksum_sha256 FROM products WHERE data_id = 'b'");
    expect(b.rows[0]).toEqual({ status: 'publishing', checksum_sha256: null });
    expect(await statusCountDrift(db.pool)).toEqual([]);
    // The statement's two outcomes are in the success rate, as the event log says.
    const since = new Date(Date.now() - 24 * 3600_000);
    expect(await keptOutcomes(db.pool, since)).toEqual({ products: 2, succeeded: 2 });
    expect(await referenceOutcomes(db.pool, since)).toEqual({ products: 2, succeeded: 2 });
    expect(await outcomeHoursDrift(db.pool)).toEqual([]);

    // The markers: cleared for the published products, once; b is not published.
    const ids = claimed.map((r) => r.id);
    expect((await recordSourceRemoved(db.pool, ids, { worker: 'w1' })).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(await recordSourceRemoved(db.pool, ids, { worker: 'w1' })).toEqual([]);
    expect((await events('source_removed')).map((e) => [e.data_id, e.attempt, e.worker])).toEqual([['a', 1, 'w1'], ['c', 1, 'w1']]);
  });

  it('keeps the status counts exact, and never deadlocks on them, under concurrent statements that each change many products', async () => {
    // 8 connections, each moving its own 400 products back and forth in statements of 40 at once,
    // in random order: the ids of one statement fall in every shard of the old layout (id % 64),
    // which deadlocked two such statements taking their counter rows in different orders.
    await recordRegistered(db.pool, Array.from({ length: 3200 }, (_, i) => product(`c${i}`, `c/${i}.fits`)));
    const ids = (await db.pool.query<{ id: string }>('SELECT id FROM products ORDER BY id')).rows.map((r) => Number(r.id));
    const statuses = ['publishing', 'failed', 'staging'];
    const failures: unknown[] = [];
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      const mine = ids.slice(w * 400, (w + 1) * 400);
      const client = await db.pool.connect();
      try {
        for (let round = 0; round < 15; round++) {
          const some = [...mine].sort(() => Math.random() - 0.5).slice(0, 40);
          await client.query(`UPDATE products SET status = $2::product_status, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
                               WHERE id = ANY($1::bigint[])`, [some, statuses[(w + round) % 3]]).catch((err: unknown) => failures.push(err));
        }
      } finally {
        client.release();
      }
    }));
    expect(failures).toEqual([]);
    expect(await statusCountDrift(db.pool)).toEqual([]);
  });
});

import crypto from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { seedProduct } from '../../../test/support/products';
import { confirmLeases } from './lease.repository';

describe('confirmLeases (the last lease check before copies become visible)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const LEASE_SECONDS = 60;

  /** A product in `publishing` under a fresh token whose lease ends `secondsLeft` from now. */
  async function leased(dataId: string, secondsLeft: number): Promise<{ id: number; token: string }> {
    const row = await seedProduct(db.pool, { data_id: dataId, status: 'publishing' });
    const token = crypto.randomUUID();
    await db.pool.query(
      `UPDATE products SET lease_token = $2, lease_owner = 'w', lease_expires_at = now() + make_interval(secs => $3) WHERE id = $1`,
      [row.id, token, secondsLeft],
    );
    return { id: row.id, token };
  }

  /** The row's physical version (ctid and creating transaction) and its lease expiry, in seconds from now. */
  async function version(id: number): Promise<{ ctid: string; xmin: string; left: number }> {
    const res = await db.pool.query<{ ctid: string; xmin: string; left: number }>(
      `SELECT ctid::text, xmin::text, extract(epoch FROM lease_expires_at - now())::float8 AS left FROM products WHERE id = $1`, [id],
    );
    return res.rows[0]!;
  }

  it('answers a lease with more than half its length left as held and writes no new row version', async () => {
    const fresh = await leased('fresh', LEASE_SECONDS - 1);
    const before = await version(fresh.id);
    expect(await confirmLeases(db.pool, [fresh], LEASE_SECONDS)).toEqual(new Set([fresh.id]));
    const after = await version(fresh.id);
    expect({ ctid: after.ctid, xmin: after.xmin }).toEqual({ ctid: before.ctid, xmin: before.xmin });
  });

  it('extends a held lease with less than half its length left to a whole lease', async () => {
    const short = await leased('short', 5);
    expect(await confirmLeases(db.pool, [short], LEASE_SECONDS)).toEqual(new Set([short.id]));
    expect((await version(short.id)).left).toBeGreaterThan(LEASE_SECONDS - 5);
  });

  it('leaves out a lease taken over or ended and changes neither; holds again an expired one nobody reclaimed', async () => {
    const taken = await leased('taken', LEASE_SECONDS);
    const expired = await leased('expired', -1);
    const ended = await leased('ended', LEASE_SECONDS);
    await db.pool.query(`UPDATE products SET lease_token = gen_random_uuid() WHERE id = $1`, [taken.id]);
    await db.pool.query(`UPDATE products SET status = 'staging', lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1`, [ended.id]);
    const before = await Promise.all([taken, expired, ended].map((l) => version(l.id)));
    // Nobody reclaimed the expired lease: it is still this token's, and extended.
    expect(await confirmLeases(db.pool, [taken, ended], LEASE_SECONDS)).toEqual(new Set());
    expect(await confirmLeases(db.pool, [expired], LEASE_SECONDS)).toEqual(new Set([expired.id]));
    const after = await Promise.all([taken, expired, ended].map((l) => version(l.id)));
    expect([after[0]!.ctid, after[2]!.ctid]).toEqual([before[0]!.ctid, before[2]!.ctid]);
    expect(after[1]!.left).toBeGreaterThan(LEASE_SECONDS - 5);
  });

  it('answers a group in one statement: the fresh and the short lease held, the lost one not', async () => {
    const members = [await leased('g-fresh', LEASE_SECONDS), await leased('g-short', 1), await leased('g-lost', LEASE_SECONDS)];
    const asked = [members[0]!, members[1]!, { id: members[2]!.id, token: crypto.randomUUID() }];
    expect(await confirmLeases(db.pool, asked, LEASE_SECONDS)).toEqual(new Set([members[0]!.id, members[1]!.id]));
    expect((await version(members[1]!.id)).left).toBeGreaterThan(LEASE_SECONDS - 5);
  });
});

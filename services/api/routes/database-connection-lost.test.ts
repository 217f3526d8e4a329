import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { registryCounts, seedProduct } from '../../../test/support/products';
import { waitFor } from '../../../test/support/wait-for';

/** PostgreSQL ending the api's connections (a restart, a failover, an operator): 503 database_unavailable, and the pool recovers. */
describe('PostgreSQL ends the api connections', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await createTestApi();
    await seedProduct(t.db.pool, { data_id: 'kept' });
  });
  afterAll(() => t.close());

  /** The api pool's backends on this test's database (the test's own pool is another application). */
  const apiBackends = "datname = current_database() AND application_name = 'ferry-api' AND pid <> pg_backend_pid()";

  it('answers 503 database_unavailable when the connection is ended mid-query, writes nothing, and serves the next request', async () => {
    const before = await registryCounts(t.db.pool);
    // Hold a lock the api's query must wait for, so the query is in flight when its backend is ended.
    const blocker = await t.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
      const pending = request(t.app).get('/api/products/kept').set(authHeader()).then((r) => r);
      let waiting: number | undefined;
      await waitFor(async () => {
        const res = await t.db.pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE ${apiBackends} AND wait_event_type = 'Lock'`);
        waiting = res.rows[0]?.pid;
        return waiting !== undefined;
      }, 10000, 'the api query waiting on the lock', 10);
      await t.db.pool.query('SELECT pg_terminate_backend($1)', [waiting]);
      const res = await pending;
      expect({ status: res.status, body: res.body }).toEqual({
        status: 503,
        body: { error: { code: 'database_unavailable', message: 'PostgreSQL cannot be reached right now; retry later' } },
      });
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await registryCounts(t.db.pool)).toEqual(before);
    const next = await request(t.app).get('/api/products/kept').set(authHeader());
    expect({ status: next.status, data_id: next.body.data_id }).toEqual({ status: 200, data_id: 'kept' });
  });

  it('drops the ended idle connections from the pool and serves the next request', async () => {
    // Warm the pool with several connections at once.
    await Promise.all(Array.from({ length: 4 }, () => request(t.app).get('/api/products').set(authHeader())));
    const idle = t.deps.pool.idleCount;
    expect(idle).toBeGreaterThan(0);
    const removed = new Promise<void>((resolve) => {
      let n = 0;
      t.deps.pool.on('remove', () => {
        if (++n >= idle) resolve();
      });
    });
    const ended = await t.db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${apiBackends}`);
    expect(ended.rowCount).toBe(idle);
    await removed;
    const res = await request(t.app).get('/api/products/kept').set(authHeader());
    expect({ status: res.status, data_id: res.body.data_id }).toEqual({ status: 200, data_id: 'kept' });
  });
});

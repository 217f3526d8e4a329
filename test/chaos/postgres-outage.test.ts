import { Pool } from 'pg';
import { withTransaction } from '../../services/core/db/transaction';
import { assertChaosInvariants, callApi, registerViaApi, stageFiles, useChaosRun, waitAllPublished, type ApiAnswer } from '../support/chaos';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180000);

const PRODUCTS = 120;
const OUTAGE_MS = 20000;

// A private PostgreSQL cluster (own data directory and port, run as the postgres OS user when the
// tests run as root) is stopped for real; the shared server on 5432 is never touched.
describe('chaos: PostgreSQL stopped for 20 s mid-run', () => {
  const run = useChaosRun({ privatePostgres: true });

  it('answers 503 with a clear error during the outage, loses nothing registered before, and completes everything after', async () => {
    const { postgres: pg, db: { pool }, roots } = run;
    const products = await stageFiles(roots.stageRoot, 'pg', PRODUCTS, 8 * 1024, 32 * 1024);
    const [during] = await stageFiles(roots.stageRoot, 'during', 1, 1024, 1024);
    const watcher = run.watch([...products, during!]);
    const api = await run.startApi('api', { DATABASE_STATEMENT_TIMEOUT_MS: '5000' });
    const worker = await run.startWorker('worker', { PUBLISH_CONCURRENCY: '2', PUBLISH_MAX_BYTES_PER_SEC: String(256 * 1024) });
    for (const p of products) await registerViaApi(api.base, p);
    await waitFor(async () => (await pool.query(`SELECT 1 FROM products WHERE status = 'published'`)).rowCount! >= 10, 60000, 'some published', 100);

    // Work still in hand when the database goes, or the outage proved nothing about the worker.
    const pending = await pool.query(`SELECT 1 FROM products WHERE status <> 'published'`);
    expect(pending.rowCount).toBeGreaterThan(10);
    await pg.stop();
    const stoppedAt = Date.now();
    const ready: ApiAnswer[] = [];
    const registrations: ApiAnswer[] = [];
    const reads: ApiAnswer[] = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      ready.push(await callApi(api.base, 'GET', '/health/ready'));
      registrations.push(await callApi(api.base, 'POST', '/api/products', { data_id: during!.dataId, data_type: 'image', stage_path: during!.rel }));
      reads.push(await callApi(api.base, 'GET', `/api/products/${products[0]!.dataId}`));
      await new Promise((r) => setTimeout(r, 2000));
    }
    await pg.start();

    // Every answer during the outage was a 503 that says what is wrong, never a 500 or a hang.
    expect(ready.length).toBeGreaterThanOrEqual(5);
    for (const a of ready) {
      expect(a.status).toBe(503);
      expect((a.body.error as { message: string }).message).toMatch(/postgres/i);
    }
    for (const a of [...registrations, ...reads]) {
      expect({ status: a.status, code: (a.body.error as { code?: string } | undefined)?.code }).toEqual({ status: 503, code: 'database_unavailable' });
    }
    // Both processes ride out the outage (their last lines say why if one did not).
    expect({ exit: worker.child.exitCode, last: worker.child.exitCode === null ? [] : worker.lines.slice(-25) }).toEqual({ exit: null, last: [] });
    expect({ exit: api.proc.child.exitCode, last: api.proc.child.exitCode === null ? [] : [...api.proc.lines.slice(-10), ...api.proc.stderr.slice(-10)] }).toEqual({ exit: null, last: [] });

    await waitFor(async () => (await callApi(api.base, 'GET', '/health/ready')).status === 200, 30000, 'the api ready again', 250);
    expect((await registerViaApi(api.base, during!)).status).toBe(201);
    await waitAllPublished(pool, [...products, during!], 150000);
    const seen = await watcher.stop();
    expect(seen.partial).toEqual([]);
    expect(seen.strays).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
    await assertChaosInvariants(pool, roots.productsRoot, [...products, during!]);
  });

  it('rejects a transaction that PostgreSQL ends by shutting down, instead of crashing the process', async () => {
    // The crash this once caused: pg-pool leaves a checked-out client without an 'error' listener,
    // so the server's 57P01 on an open transaction became an unhandled 'error' event.
    const { postgres: pg, db: { pool } } = run;
    const own = new Pool({ connectionString: pg.url, max: 1 });
    own.on('error', () => undefined);
    try {
      const outcome = withTransaction(own, async (c) => {
        await c.query('SELECT 1');
        await pg.stop();
        await c.query('SELECT 1');
      });
      await expect(outcome).rejects.toThrow();
    } finally {
      await pg.start();
      await own.end().catch(() => undefined);
    }
    expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
  });
});

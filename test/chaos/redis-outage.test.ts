import {
  assertChaosInvariants, callApi, registerViaApi, stageFiles, useChaosRun, waitAllPublished, type ApiAnswer, type ChaosApi, type ChaosProduct,
} from '../support/chaos';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180000);

const PRODUCTS = 150;
const LATE = 10;

// A private redis-server (its own port and directory, no persistence): killing or flushing it
// loses every job, which is the point. The shared Redis on 6379 is never touched.
describe('chaos: Redis lost mid-run', () => {
  const run = useChaosRun({ privateRedis: true, perTest: true });
  let api: ChaosApi | undefined;

  /** Runs products through api and worker, calls `disrupt` mid-run, and checks everything still completes. */
  async function runThrough(disrupt: (late: ChaosProduct[]) => Promise<ApiAnswer[]>): Promise<void> {
    const { db, roots } = run;
    const products = await stageFiles(roots.stageRoot, 'redis', PRODUCTS, 8 * 1024, 32 * 1024);
    const late = await stageFiles(roots.stageRoot, 'late', LATE, 1024, 4096);
    const watcher = run.watch([...products, ...late]);
    api = await run.startApi('api');
    const worker = await run.startWorker('worker', { PUBLISH_CONCURRENCY: '2', PUBLISH_MAX_BYTES_PER_SEC: String(512 * 1024) });
    for (const p of products) await registerViaApi(api.base, p);
    await waitFor(async () => (await db.pool.query(`SELECT 1 FROM products WHERE status = 'published'`)).rowCount! >= PRODUCTS / 5, 60000, 'a fifth published', 100);

    const answers = await disrupt(late);
    // The jobs of everything not yet published were lost with Redis, so the rest is the reconciler's doing.
    const pending = await db.pool.query(`SELECT 1 FROM products WHERE status <> 'published'`);
    expect(pending.rowCount).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status >= 500 && (a.status !== 503 || (a.body.error as { code?: string })?.code !== 'dependency_unavailable'))).toEqual([]);
    // Products refused during the outage (503) are registered again now; the others must still be there.
    for (const [i, a] of answers.entries()) if (a.status !== 201) await registerViaApi(api.base, late[i]!);

    await waitAllPublished(db.pool, [...products, ...late], 150000);
    const seen = await watcher.stop();
    expect(seen.partial).toEqual([]);
    expect(seen.strays).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
    await assertChaosInvariants(db.pool, roots.productsRoot, [...products, ...late]);
  }

  it('completes every product after Redis is killed and restarted empty', async () => {
    await runThrough(async (late) => {
      await run.redis.kill();
      // While Redis is down: registrations answer 201 (the row is the truth) or a clean 503, never a 500.
      const answers: ApiAnswer[] = [];
      for (const p of late) answers.push(await callApi(api!.base, 'POST', '/api/products', { data_id: p.dataId, data_type: 'image', stage_path: p.rel }));
      await new Promise((r) => setTimeout(r, 3000));
      await run.redis.start();
      return answers;
    });
  });

  it('completes every product after Redis is flushed', async () => {
    await runThrough(async (late) => {
      await run.redis.flushAll();
      const answers: ApiAnswer[] = [];
      for (const p of late) answers.push(await callApi(api!.base, 'POST', '/api/products', { data_id: p.dataId, data_type: 'image', stage_path: p.rel }));
      return answers;
    });
  });
});

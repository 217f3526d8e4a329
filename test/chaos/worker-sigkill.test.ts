import path from 'node:path';
import {
  assertChaosInvariants, registerViaApi, stageFiles, startChaosApi, startChaosWorker, waitAllPublished, watchProductsRoot,
  type ChaosApi, type ChaosProduct, type ChaosTarget,
} from '../support/chaos';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { listTree } from '../support/publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../support/redis';
import { killWorker, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(180000);

const PRODUCTS = 500;
const KILLS = 10;

/** Registers through the api, a few requests at a time. */
async function registerAll(api: ChaosApi, products: ChaosProduct[], parallel = 8): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < products.length) await registerViaApi(api.base, products[next++]!);
  }));
}

describe('chaos: the worker killed with SIGKILL at random moments', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let prefix: string;
  let api: ChaosApi | undefined;
  const workers: WorkerProcess[] = [];
  let watcher: ReturnType<typeof watchProductsRoot> | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    prefix = testRedisPrefix();
  });
  afterAll(async () => {
    await watcher?.stop();
    for (const w of workers) await killWorker(w);
    await api?.stop();
    await deleteRedisPrefix(prefix);
    await db?.drop();
    await roots?.cleanup();
  });

  it(`publishes each of ${PRODUCTS} products exactly once while the worker is SIGKILLed ${KILLS} times and restarted`, async () => {
    const target: ChaosTarget = { databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix, roots };
    const products = await stageFiles(roots.stageRoot, 'kill', PRODUCTS, 8 * 1024, 64 * 1024);
    // Slow copies (about 0.15 s a product) so kills land mid-copy; a generous attempt budget because
    // one product may be in hand at several kills, and every such attempt counts.
    const env = { PUBLISH_CONCURRENCY: '4', PUBLISH_MAX_BYTES_PER_SEC: String(256 * 1024), PUBLISH_MAX_ATTEMPTS: '30' };
    watcher = watchProductsRoot(roots.productsRoot, products);
    api = await startChaosApi(target, 'chaos-api');
    let worker = await startChaosWorker(target, 'victim-0', env);
    workers.push(worker);
    const registering = registerAll(api, products);

    const kills: Array<{ publishing: number; temp: number; published: number }> = [];
    for (let k = 1; k <= KILLS; k++) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
      const counts = await db.pool.query<{ publishing: number; published: number }>(
        `SELECT count(*) FILTER (WHERE status = 'publishing')::int AS publishing, count(*) FILTER (WHERE status = 'published')::int AS published FROM products`,
      );
      const temp = (await listTree(path.join(roots.productsRoot, '.ferry-tmp'))).length;
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');
      kills.push({ ...counts.rows[0]!, temp });
      worker = await startChaosWorker(target, `victim-${k}`, env);
      workers.push(worker);
    }
    await registering;
    await waitAllPublished(db.pool, products, 150000);
    const seen = await watcher.stop();

    // The kills must have hit work in hand, or this test proved nothing.
    expect(kills.filter((k) => k.publishing > 0).length).toBeGreaterThanOrEqual(KILLS / 2);
    expect(kills.some((k) => k.temp > 0)).toBe(true);
    const reclaims = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM product_events WHERE event = 'lease_reclaimed'`);
    expect(reclaims.rows[0]!.n).toBeGreaterThan(0);
    expect(seen.polls).toBeGreaterThan(10);
    expect(seen.partial).toEqual([]);
    expect(seen.strays).toEqual([]);
    await assertChaosInvariants(db.pool, roots.productsRoot, products);
  });
});

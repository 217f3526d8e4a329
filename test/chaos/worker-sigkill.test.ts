import {
  assertChaosInvariants, killWorkerRepeatedly, registerViaApi, stageFiles, useChaosRun, waitAllPublished, type ChaosApi, type ChaosProduct,
} from '../support/chaos';

// Generous: 500 slowed copies and ten restarts take minutes when the CI machine is busy.
jest.setTimeout(420000);

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
  const run = useChaosRun();

  it(`publishes each of ${PRODUCTS} products exactly once while the worker is SIGKILLed ${KILLS} times and restarted`, async () => {
    const { db, roots } = run;
    const products = await stageFiles(roots.stageRoot, 'kill', PRODUCTS, 8 * 1024, 64 * 1024);
    // Slow copies (about 0.15 s a product: the 1 MiB/s budget is shared by the worker's 4 copies) so kills land mid-copy; a generous attempt budget because
    // one product may be in hand at several kills, and every such attempt counts. Groups off: this
    // file kills the one-product path (group-sigkill.test.ts kills groups).
    const env = { PUBLISH_CONCURRENCY: '4', PUBLISH_MAX_BYTES_PER_SEC: String(1024 * 1024), PUBLISH_MAX_ATTEMPTS: '30', PUBLISH_GROUP_MAX_BYTES: '0' };
    const watcher = run.watch(products);
    const api = await run.startApi('chaos-api');
    const worker = await run.startWorker('victim-0', env);
    const registering = registerAll(api, products);

    const kills = await killWorkerRepeatedly(run, worker, { kills: KILLS, spreadMs: 1200, instance: 'victim', env });
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

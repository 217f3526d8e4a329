import {
  assertChaosInvariants, callApi, killWorkerRepeatedly, stageFiles, useChaosRun, waitAllPublished, type ChaosApi, type ChaosProduct,
} from '../support/chaos';

// Generous: slowed group copies and eight restarts take minutes when the CI machine is busy.
jest.setTimeout(420000);

const PRODUCTS = 400;
const BATCH = 50;
const KILLS = 8;

/** Registers every product through the batch endpoint; each must come back 201 (or 200 when sent again). */
async function registerInBatches(api: ChaosApi, products: ChaosProduct[]): Promise<void> {
  for (let i = 0; i < products.length; i += BATCH) {
    const slice = products.slice(i, i + BATCH);
    const a = await callApi(api.base, 'POST', '/api/products/batch', {
      products: slice.map((p) => ({ data_id: p.dataId, data_type: 'image', stage_path: p.rel })),
    });
    const statuses = (a.body.results as Array<{ status: number }> | undefined)?.map((r) => r.status) ?? [];
    if (a.status !== 200 || statuses.some((s) => s !== 201 && s !== 200)) throw new Error(`batch at ${i}: ${a.status} ${JSON.stringify(a.body).slice(0, 500)}`);
  }
}

describe('chaos: the worker killed with SIGKILL at random moments while it publishes in groups', () => {
  const run = useChaosRun();

  it(`publishes each of ${PRODUCTS} batch-registered small products exactly once while the worker is SIGKILLed ${KILLS} times`, async () => {
    const { db, roots } = run;
    const products = await stageFiles(roots.stageRoot, 'group', PRODUCTS, 4 * 1024, 32 * 1024);
    // Groups of up to 16 with paced copies (the 1 MiB/s budget is shared by all of a worker's copies), so a
    // kill lands in a group's copies, its durability step or its commit; a generous attempt budget because
    // a product may be in hand at several kills.
    const env = {
      PUBLISH_CONCURRENCY: '3', PUBLISH_GROUP_SIZE: '16', PUBLISH_GROUP_MAX_BYTES: String(64 * 1024),
      PUBLISH_MAX_BYTES_PER_SEC: String(1024 * 1024), PUBLISH_MAX_ATTEMPTS: '30',
    };
    const watcher = run.watch(products);
    const api = await run.startApi('chaos-api');
    const worker = await run.startWorker('group-victim-0', env);
    const registering = registerInBatches(api, products);

    const kills = await killWorkerRepeatedly(run, worker, { kills: KILLS, spreadMs: 1500, instance: 'group-victim', env });
    await registering;
    await waitAllPublished(db.pool, products, 200000);
    const seen = await watcher.stop();

    // The kills must have hit groups in hand (several products leased at once), or this test proved nothing.
    expect(kills.filter((k) => k.publishing > 1).length).toBeGreaterThanOrEqual(KILLS / 2);
    expect(kills.some((k) => k.temp > 0)).toBe(true);
    const reclaims = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM product_events WHERE event = 'lease_reclaimed'`);
    expect(reclaims.rows[0]!.n).toBeGreaterThan(0);
    // Products were committed in groups: one transaction gives its `published` events one timestamp.
    const commits = await db.pool.query<{ biggest: number }>(
      `SELECT max(n)::int AS biggest FROM (SELECT count(*) AS n FROM product_events WHERE event = 'published' GROUP BY created_at, worker) g`,
    );
    expect(commits.rows[0]!.biggest).toBeGreaterThan(1);
    expect(seen.polls).toBeGreaterThan(10);
    expect(seen.partial).toEqual([]);
    expect(seen.strays).toEqual([]);
    // Exactly one `published` event each, right checksums and bytes, temp area empty, nothing else in the archive.
    await assertChaosInvariants(db.pool, roots.productsRoot, products);
  });
});

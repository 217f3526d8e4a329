import { assertChaosInvariants, callApi, stageFiles, useChaosRun, waitAllPublished, type ApiAnswer, type ChaosApi } from '../support/chaos';

jest.setTimeout(180000);

const PRODUCTS = 200;

describe('chaos: two api processes and two workers racing on the same products', () => {
  const run = useChaosRun();
  const apis: ChaosApi[] = [];

  it('registers each product once through both apis and publishes it exactly once with two workers', async () => {
    const { db, roots } = run;
    const products = await stageFiles(roots.stageRoot, 'race', PRODUCTS, 1024, 32 * 1024);
    const watcher = run.watch(products);
    // Started one by one so afterAll stops every process that did start, whatever fails.
    for (const name of ['api-a', 'api-b']) apis.push(await run.startApi(name));
    for (const name of ['worker-a', 'worker-b']) await run.startWorker(name, { PUBLISH_CONCURRENCY: '4' });

    // Every product is registered through both apis at once; every tenth also gets a conflicting
    // registration (other metadata) and an explicit publish request, racing the workers.
    const answers: Array<{ dataId: string; kind: string; a: ApiAnswer }> = [];
    let next = 0;
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (next < products.length) {
        const p = products[next++]!;
        const body = { data_id: p.dataId, data_type: 'image', stage_path: p.rel, expected_sha256: p.sha256 };
        const calls: Array<Promise<{ dataId: string; kind: string; a: ApiAnswer }>> = apis.map((api) => callApi(api.base, 'POST', '/api/products', body).then((a) => ({ dataId: p.dataId, kind: 'register', a })));
        if (next % 10 === 0) {
          calls.push(callApi(apis[1]!.base, 'POST', '/api/products', { ...body, metadata: { other: true } }).then((a) => ({ dataId: p.dataId, kind: 'conflict', a })));
          calls.push(callApi(apis[0]!.base, 'POST', `/api/products/${p.dataId}/publish`).then((a) => ({ dataId: p.dataId, kind: 'publish', a })));
        }
        answers.push(...(await Promise.all(calls)));
      }
    }));

    expect(answers.filter((x) => x.a.status >= 500)).toEqual([]);
    // Per product exactly one registration wins (201); a twin identical to the winner gets 200 and
    // the same product, a different one 409 data_id_conflict (the conflicting body may win the race).
    for (const p of products) {
      const mine = answers.filter((x) => x.dataId === p.dataId && x.kind !== 'publish');
      const winners = mine.filter((x) => x.a.status === 201);
      expect({ id: p.dataId, winners: winners.length }).toEqual({ id: p.dataId, winners: 1 });
      for (const x of mine.filter((m) => m !== winners[0])) {
        const same = (x.kind === 'conflict') === (winners[0]!.kind === 'conflict');
        expect({ id: p.dataId, status: x.a.status, code: (x.a.body.error as { code?: string } | undefined)?.code })
          .toEqual({ id: p.dataId, status: same ? 200 : 409, code: same ? undefined : 'data_id_conflict' });
      }
    }
    // A publish request races registration: 202, 404 before the row exists, or 409 when already published.
    for (const r of answers.filter((x) => x.kind === 'publish')) expect([202, 404, 409]).toContain(r.a.status);

    await waitAllPublished(db.pool, products, 150000);
    const seen = await watcher.stop();
    expect(seen.partial).toEqual([]);
    expect(seen.strays).toEqual([]);
    await assertChaosInvariants(db.pool, roots.productsRoot, products);
    const byWorker = await db.pool.query<{ worker: string; n: number }>(`SELECT worker, count(*)::int AS n FROM product_events WHERE event = 'published' GROUP BY worker`);
    // Both workers did real work, or there was no race.
    expect(byWorker.rows.map((r) => r.worker).sort()).toEqual(['worker-a', 'worker-b']);
    const registered = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM product_events WHERE event = 'registered'`);
    expect(registered.rows[0]!.n).toBe(PRODUCTS);
  });
});

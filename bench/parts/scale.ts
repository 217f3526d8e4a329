import path from 'node:path';
import { startFerry } from '../lib/ferry';
import { medianLoad } from '../lib/load';
import { seedProducts } from '../lib/seed';
import type { BenchContext, PartResult, Row } from '../lib/result';

const ENDPOINTS: [string, string][] = [
  ['GET /api/products/{id}', '/api/products/seed-4321'],
  ['GET /api/monitoring/publish/status', '/api/monitoring/publish/status'],
  ['GET /api/monitoring/publish/failed', '/api/monitoring/publish/failed?limit=50'],
  ['GET /api/products?status=published', '/api/products?status=published&limit=50'],
];

/** Part 5: the status and list endpoints at 10,000 and at scaleRows products: p99 must not grow with the registry. */
export async function registryScale(ctx: BenchContext): Promise<PartResult> {
  const small = Math.min(10_000, ctx.scaleRows);
  const ferry = await startFerry(path.join(ctx.workDir, 'scale'), { worker: false });
  const rows: Row[] = [];
  let peak;
  try {
    const measure = async (size: number) => {
      for (const [name, p] of ENDPOINTS) {
        const label = `${name} @ ${size.toLocaleString('en')}`;
        const r = await medianLoad(label, ferry.url + p, { rate: 200, seconds: 10, connections: 10, headers: { authorization: `Bearer ${ferry.token}` } }, ctx.repeat);
        rows.push({ name: label, endpoint: name, products: size, p50_ms: r.p50_ms, p99_ms: r.p99_ms });
      }
    };
    await seedProducts(ferry.db.pool, 0, small);
    await measure(small);
    await seedProducts(ferry.db.pool, small, ctx.scaleRows);
    await measure(ctx.scaleRows);
    peak = await ferry.peakRss();
  } finally {
    await ferry.stop();
  }
  const withRatio = rows.map((r) => ({ ...r, ratio: Number(r.p99_ms) / Number(rows.find((b) => b.endpoint === r.endpoint)!.p99_ms) }));
  return {
    part: 'scale',
    title: `Registry scale: ${small.toLocaleString('en')} vs ${ctx.scaleRows.toLocaleString('en')} products, 200 req/s direct to the api, median of ${ctx.repeat} runs of 10 s`,
    baseline: `the same endpoint's p99 at ${small.toLocaleString('en')} products`,
    rows: withRatio,
    peak_rss: peak,
    targets: [{ name: 'p99 within 2 × of the 10,000-product figure on every endpoint', ok: withRatio.every((r) => r.ratio <= 2) }],
  };
}

import path from 'node:path';
import { startFerry } from '../lib/ferry';
import type { BenchContext, PartResult } from '../lib/result';
import { latencyAtTwoSizes } from '../lib/two-sizes';

const ENDPOINTS: [string, string][] = [
  ['GET /api/products/{id}', '/api/products/seed-4321'],
  ['GET /api/monitoring/publish/status', '/api/monitoring/publish/status'],
  ['GET /api/monitoring/publish/failed', '/api/monitoring/publish/failed?limit=50'],
  ['GET /api/products?status=published', '/api/products?status=published&limit=50'],
];

/** Part 5: the status and list endpoints at 10,000 and at scaleRows products: p99 must not grow with the registry. */
export async function registryScale(ctx: BenchContext): Promise<PartResult> {
  const ferry = await startFerry(path.join(ctx.workDir, 'scale'), { worker: false });
  let measured;
  let peak;
  try {
    measured = await latencyAtTwoSizes(ferry, ctx, ENDPOINTS, { rate: 200, seconds: 10, connections: 10, headers: { authorization: `Bearer ${ferry.token}` } });
    peak = await ferry.peakRss();
  } finally {
    await ferry.stop();
  }
  const { small, rows: withRatio } = measured;
  return {
    part: 'scale',
    title: `Registry scale: ${small.toLocaleString('en')} vs ${ctx.scaleRows.toLocaleString('en')} products, 200 req/s direct to the api, median of ${ctx.repeat} runs of 10 s`,
    baseline: `the same endpoint's p99 at ${small.toLocaleString('en')} products`,
    rows: withRatio,
    peak_rss: peak,
    targets: [{ name: 'p99 within 2 × of the 10,000-product figure on every endpoint', ok: withRatio.every((r) => r.ratio <= 2) }],
  };
}

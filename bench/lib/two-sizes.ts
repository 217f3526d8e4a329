import type { Ferry } from './ferry';
import { medianLoad, type LoadOptions } from './load';
import type { BenchContext, Row } from './result';
import { seedProducts } from './seed';

/** One measured endpoint at one registry size; ratio is its p99 over the same endpoint's p99 at the smaller size. */
export interface SizedRow extends Row {
  endpoint: string;
  products: number;
  p50_ms: number;
  p99_ms: number;
  ratio: number;
}

/**
 * Seeds the registry to min(10,000, scaleRows) products and measures each endpoint under the same
 * load, then seeds up to scaleRows and measures again: how a page's latency grows with the registry.
 */
export async function latencyAtTwoSizes(
  ferry: Ferry, ctx: BenchContext, endpoints: readonly (readonly [string, string])[], load: LoadOptions,
): Promise<{ small: number; rows: SizedRow[] }> {
  const small = Math.min(10_000, ctx.scaleRows);
  const rows: { name: string; endpoint: string; products: number; p50_ms: number; p99_ms: number }[] = [];
  const measure = async (size: number) => {
    for (const [name, p] of endpoints) {
      const label = `${name} @ ${size.toLocaleString('en')}`;
      const r = await medianLoad(label, ferry.url + p, load, ctx.repeat);
      rows.push({ name: label, endpoint: name, products: size, p50_ms: r.p50_ms, p99_ms: r.p99_ms });
    }
  };
  await seedProducts(ferry.db.pool, 0, small);
  await measure(small);
  await seedProducts(ferry.db.pool, small, ctx.scaleRows);
  await measure(ctx.scaleRows);
  return { small, rows: rows.map((r) => ({ ...r, ratio: r.p99_ms / rows.find((b) => b.endpoint === r.endpoint)!.p99_ms })) };
}

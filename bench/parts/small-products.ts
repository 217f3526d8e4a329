import path from 'node:path';
import { emptyDir, writeTree } from '../lib/files';
import { startFerry } from '../lib/ferry';
import { have, quantile, since, sq, timeShell } from '../lib/measure';
import { withRatios, type BenchContext, type PartResult, type Row } from '../lib/result';

/** Runs fn over items with at most `limit` in flight. */
async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Part 2: many 64 KiB products registered through the API and published with fsync, against rclone and rsync on the same tree. */
export async function smallProducts(ctx: BenchContext): Promise<PartResult> {
  const count = ctx.smallCount;
  const size = 64 * 1024;
  const dir = path.join(ctx.workDir, 'small');
  const tree = path.join(dir, 'tree');
  const dst = path.join(dir, 'dst');
  const rows: Row[] = [];
  const tools: [string, string][] = [
    ['rclone move --checksum', `rclone move --checksum --config /dev/null ${sq(tree)} ${sq(dst)} 2>/dev/null`],
    ['rsync -a --checksum', `rsync -a --checksum ${sq(tree)}/ ${sq(dst)}/`],
  ];
  for (const [name, script] of tools) {
    if (!(await have(name.split(' ')[0]!))) continue;
    await emptyDir(tree);
    await emptyDir(dst);
    await writeTree(tree, count, size);
    await timeShell('sync');
    const seconds = await timeShell(`${script} && sync`);
    rows.push({ name, seconds, products_per_s: count / seconds });
  }

  const ferry = await startFerry(path.join(dir, 'ferry'), { mode: 'move', concurrency: ctx.concurrency });
  let peak;
  try {
    const files = await writeTree(ferry.stageRoot, count, size);
    await timeShell('sync');
    const latencies: number[] = [];
    const t0 = process.hrtime.bigint();
    await inPool(files.map((f, i) => ({ f, i })), 32, async ({ f, i }) => {
      const r0 = process.hrtime.bigint();
      await ferry.register({ data_id: `small-${i}`, data_type: 'image', stage_path: f });
      latencies.push(since(r0) * 1000);
    });
    await ferry.waitPublished(count);
    const seconds = since(t0);
    rows.push({
      name: `Ferry (${ctx.concurrency} jobs)`, seconds, products_per_s: count / seconds,
      register_p50_ms: quantile(latencies, 0.5), register_p99_ms: quantile(latencies, 0.99),
    });
    peak = await ferry.peakRss();
  } finally {
    await ferry.stop();
    await emptyDir(dir);
  }

  const base = rows[0]!;
  const ferryRow = rows.at(-1)!;
  const rclone = rows.find((r) => r.name.startsWith('rclone'));
  return {
    part: 'small',
    title: `Many small products: ${count} × 64 KiB, registered through the API, end to end`,
    baseline: base.name,
    rows: withRatios(rows, base),
    peak_rss: peak,
    targets: [
      { name: '≥ 500 products/s end to end', ok: Number(ferryRow.products_per_s) >= 500 },
      ...(rclone ? [{ name: 'faster than rclone move --checksum on the same tree', ok: ferryRow.seconds! < rclone.seconds! }] : []),
    ],
  };
}

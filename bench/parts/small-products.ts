import path from 'node:path';
import { cpuMsPerItem, cpuSnapshot } from '../lib/cpu';
import { emptyDir, writeTree } from '../lib/files';
import { startFerry, type Ferry } from '../lib/ferry';
import { startFloorPublisher, type PublishTarget } from '../lib/publish-target';
import { have, median, medianOf, quantile, since, sq, timeShell } from '../lib/measure';
import { withRatios, type BenchContext, type PartResult, type Row } from '../lib/result';

/** Runs fn over items with at most `limit` in flight. */
async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Products per batch registration request (the default REGISTER_BATCH_MAX). */
const BATCH = 500;

/** One run's row and the peak memory of its processes. */
interface TargetRun {
  row: Row;
  peak: { api?: number; worker?: number };
}

/** The highest peak of each process over several runs. */
function highestPeak(runs: readonly TargetRun[]): TargetRun['peak'] {
  const most = (k: 'api' | 'worker') => Math.max(...runs.map((r) => r.peak[k] ?? 0)) || undefined;
  return { api: most('api'), worker: most('worker') };
}

/** Starts what a run measures, with its data roots under the given directory. */
type Start<T extends PublishTarget> = (workDir: string) => Promise<T>;

/**
 * The median of ctx.repeat runs (by time; its registration latencies come with it), and the
 * peak memory of all of them: one run of a few seconds swings by a fifth on a shared machine.
 */
async function medianRun<T extends PublishTarget>(
  ctx: BenchContext, dir: string, name: string, start: Start<T>,
  register: (target: T, files: string[]) => Promise<number[]>,
): Promise<TargetRun> {
  const runs: TargetRun[] = [];
  for (let i = 0; i < ctx.repeat; i++) runs.push(await oneRun(ctx, dir, name, start, register));
  const seconds = median(runs.map((r) => r.row.seconds!));
  return { row: runs.find((r) => r.row.seconds === seconds)!.row, peak: highestPeak(runs) };
}

/** One run: stage the files, register them with `register` (returns request latencies), wait until all are published. */
async function oneRun<T extends PublishTarget>(
  ctx: BenchContext, dir: string, name: string, start: Start<T>,
  register: (target: T, files: string[]) => Promise<number[]>,
): Promise<TargetRun> {
  const count = ctx.smallCount;
  const target = await start(path.join(dir, 'run'));
  try {
    const files = await writeTree(target.stageRoot, count, 64 * 1024);
    await timeShell('sync');
    const cpu0 = await cpuSnapshot(target.pids);
    const t0 = process.hrtime.bigint();
    const latencies = await register(target, files);
    await target.waitPublished(count);
    const seconds = since(t0);
    const cpu1 = await cpuSnapshot(target.pids);
    const row: Row = {
      name, seconds, products_per_s: count / seconds,
      register_p50_ms: quantile(latencies, 0.5), register_p99_ms: quantile(latencies, 0.99),
      // Where a product's CPU went, and how much of the two cores stood idle: what to work on next.
      ...cpuMsPerItem(cpu0, cpu1, count),
    };
    return { row, peak: await target.peakRss() };
  } finally {
    await target.stop();
    await emptyDir(path.join(dir, 'run'));
  }
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
    const seconds = await medianOf(ctx.repeat, async () => {
      await emptyDir(tree);
      await emptyDir(dst);
      await writeTree(tree, count, size);
      await timeShell('sync');
    }, () => timeShell(`${script} && sync`));
    rows.push({ name, seconds, products_per_s: count / seconds });
  }

  // In batches: BATCH products a request, two requests at a time.
  const inBatches = async (target: PublishTarget, files: string[]) => {
    const latencies: number[] = [];
    const batches = Array.from({ length: Math.ceil(files.length / BATCH) }, (_, b) => b);
    await inPool(batches, 2, async (b) => {
      const r0 = process.hrtime.bigint();
      const products = files.slice(b * BATCH, (b + 1) * BATCH).map((f, j) => ({ data_id: `small-${b * BATCH + j}`, data_type: 'image', stage_path: f }));
      const res = await target.request('POST', '/api/products/batch', { products });
      if (res.status !== 200 || res.body.created !== products.length) throw new Error(`batch ${b}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      latencies.push(since(r0) * 1000);
    });
    return latencies;
  };
  // One by one: each product its own registration request, 32 at a time.
  const oneByOne = async (ferry: Ferry, files: string[]) => {
    const latencies: number[] = [];
    await inPool(files.map((f, i) => ({ f, i })), 32, async ({ f, i }) => {
      const r0 = process.hrtime.bigint();
      await ferry.register({ data_id: `small-${i}`, data_type: 'image', stage_path: f });
      latencies.push(since(r0) * 1000);
    });
    return latencies;
  };
  const ferry = (env: Record<string, string>): Start<Ferry> => (workDir) => startFerry(workDir, { mode: 'move', concurrency: ctx.concurrency, env });
  const jobs = `(${ctx.concurrency} jobs)`;
  // As deployed (the target's row): the worker publishes due small files in groups whichever way they were registered.
  const single = await medianRun(ctx, dir, `Ferry one by one ${jobs}`, ferry({}), oneByOne);
  rows.push(single.row);
  // For comparison: groups off, so each product also has its own claim, fsyncs and commit.
  const ungrouped = await medianRun(ctx, dir, `Ferry one by one, groups off ${jobs}`, ferry({ PUBLISH_GROUP_MAX_BYTES: '0' }), oneByOne);
  rows.push(ungrouped.row);
  // Batches: BATCH products per registration request, published in groups (one claim, one
  // durability step, one commit each), of up to 128 as a site registering in batches sets them:
  // 12 % faster here than the default 64, which one by one keeps (docs/performance.md, thirteenth pass).
  const batchEnv = { PUBLISH_GROUP_MAX_BYTES: String(4 * 1024 * 1024), PUBLISH_GROUP_SIZE: '128' };
  const batched = await medianRun(ctx, dir, `Ferry batch of ${BATCH} + groups of 128 ${jobs}`, ferry(batchEnv), inBatches);
  rows.push(batched.row);
  // The floor under the batch row: the same requests and the same registry statements, with the
  // file work done the cheapest way Node has and nothing of Ferry around it (bench/lib/floor-publisher.ts).
  const floor = await medianRun(ctx, dir, `floor: batch of ${BATCH}, Ferry's registry statements, no queue (one process; its CPU under worker)`, startFloorPublisher, inBatches);
  rows.push(floor.row);
  // The floor's memory is not the worker's.
  const peak = highestPeak([single, ungrouped, batched]);

  const base = rows[0]!;
  const ferryRow = single.row;
  const batchRow = batched.row;
  const rclone = rows.find((r) => r.name.startsWith('rclone'));
  return {
    part: 'small',
    title: `Many small products: ${count} × 64 KiB, registered through the API (one by one, and in batches), end to end, median of ${ctx.repeat}; cpu_ms_*: ms of CPU a product by process, and of idle cores`,
    baseline: base.name,
    rows: withRatios(rows, base),
    peak_rss: peak,
    targets: [
      { name: '≥ 500 products/s end to end one by one (default settings)', ok: Number(ferryRow.products_per_s) >= 500 },
      { name: `≥ 2,000 products/s end to end through the batch endpoint (the floor: ${Math.round(Number(floor.row.products_per_s))}/s)`, ok: Number(batchRow.products_per_s) >= 2000 },
      ...(rclone ? [{ name: 'faster than rclone move --checksum on the same tree', ok: ferryRow.seconds! < rclone.seconds! }] : []),
    ],
  };
}

import path from 'node:path';
import { emptyDir, settlePageCache, writeTree } from '../lib/files';
import { SINGLE_POLL_MS, startFerry } from '../lib/ferry';
import { medianOf, since, sq, timeShell } from '../lib/measure';
import { withRatios, type BenchContext, type PartResult, type Row } from '../lib/result';

/** Part 3: one directory product of many files, against rsync -a --checksum (and cp -a for scale). */
export async function directoryProduct(ctx: BenchContext): Promise<PartResult> {
  const files = ctx.dirFiles;
  const dir = path.join(ctx.workDir, 'directory');
  const src = path.join(dir, 'pool', 'product.ms');
  const dst = path.join(dir, 'dst');
  await writeTree(src, files, 128 * 1024);
  const settle = () => settlePageCache(`tar -cf - -C ${sq(src)} . > /dev/null`);
  const rows: Row[] = [];
  for (const [name, script] of [
    ['rsync -a --checksum', `rsync -a --checksum ${sq(src)} ${sq(dst)}/ && sync`],
    ['cp -a + sync (no verification)', `cp -a ${sq(src)} ${sq(dst)}/ && sync`],
  ] as const) {
    rows.push({ name, seconds: await medianOf(ctx.repeat, async () => { await emptyDir(dst); await settle(); }, () => timeShell(script)) });
  }

  const ferry = await startFerry(path.join(dir, 'ferry'), { mode: 'copy', concurrency: 1 });
  let peak;
  try {
    const seconds = await medianOf(ctx.repeat, async (i) => {
      // A tree of hard links: the staged files are the pool's own inodes, which the settle reads
      // back into the cache, as every tool's run starts (a copy would leave Ferry reading from disk).
      await timeShell(`cp -al ${sq(src)} ${sq(path.join(ferry.stageRoot, `product-${i}.ms`))}`);
      await settle();
    }, async (i) => {
      const t0 = process.hrtime.bigint();
      await ferry.register({ data_id: `dir-${i}`, data_type: 'ms', stage_path: `product-${i}.ms` });
      await ferry.waitPublished(i + 1, { pollMs: SINGLE_POLL_MS });
      return since(t0);
    });
    rows.push({ name: 'Ferry', seconds });
    peak = await ferry.peakRss();
  } finally {
    await ferry.stop();
    await emptyDir(dir);
  }
  const base = rows[0]!;
  const ferryRow = rows.at(-1)!;
  return {
    part: 'dir',
    title: `Directory product: ${files} files × 128 KiB, median of ${ctx.repeat}`,
    baseline: base.name,
    rows: withRatios(rows, base).map((r) => ({ ...r, files_per_s: files / r.seconds! })),
    peak_rss: peak,
    targets: [{ name: 'Ferry faster than rsync -a --checksum', ok: ferryRow.seconds! < base.seconds! }],
  };
}

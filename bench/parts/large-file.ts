import fs from 'node:fs/promises';
import path from 'node:path';
import { emptyDir, settlePageCache, writeRandomFile } from '../lib/files';
import { medianPublishSeconds, startFerry } from '../lib/ferry';
import { have, medianOf, sq, timeShell } from '../lib/measure';
import { measureShaRates } from '../lib/sha-rates';
import { withRatios, type BenchContext, type PartResult, type Row } from '../lib/result';

/** Part 1: one large file, register → published (verified, fsynced), against cp + sync and the tools that verify. */
export async function largeFile(ctx: BenchContext): Promise<PartResult> {
  const bytes = ctx.largeBytes;
  const dir = path.join(ctx.workDir, 'large');
  const src = path.join(dir, 'pool', 'large.fits');
  const dst = path.join(dir, 'dst');
  await writeRandomFile(src, bytes);
  // Every contender starts with the source in the page cache, nothing dirty and nothing else cached.
  const settle = () => settlePageCache(`cat ${sq(src)} > /dev/null`);
  const out = sq(path.join(dst, 'large.fits'));
  const rows: Row[] = [];
  const tool = async (name: string, script: string, verifies: 'no' | 'yes') => {
    rows.push({ name, seconds: await medianOf(ctx.repeat, async () => { await emptyDir(dst); await settle(); }, () => timeShell(script)), verifies });
  };

  const sha = await measureShaRates(dir);
  await tool('cp + sync', `cp ${sq(src)} ${out} && sync`, 'no');
  await tool('cp && sync && sha256sum', `cp ${sq(src)} ${out} && sync && sha256sum ${out} >/dev/null`, 'yes');
  if (await have('rsync')) await tool('rsync --checksum', `rsync --checksum ${sq(src)} ${sq(dst)}/ && sync`, 'yes');
  if (await have('rclone')) {
    // rclone move consumes its source: move a hard link of the pool file so every run starts alike.
    // On one file system rclone renames instead of copying, so it neither copies nor verifies.
    const moveDir = path.join(dir, 'rclone-src');
    rows.push({
      name: 'rclone move --checksum (renames)',
      seconds: await medianOf(ctx.repeat, async () => {
        await emptyDir(dst);
        await emptyDir(moveDir);
        await fs.link(src, path.join(moveDir, 'large.fits'));
        await settle();
      }, () => timeShell(`rclone move --checksum --config /dev/null ${sq(moveDir)} ${sq(dst)} 2>/dev/null && sync`)),
      verifies: 'rename',
    });
  }

  const ferry = await startFerry(path.join(dir, 'ferry'), { mode: 'copy', concurrency: 1 });
  let peak;
  try {
    rows.push({ name: 'Ferry', seconds: await medianPublishSeconds(ferry, src, ctx.repeat), verifies: 'yes' });
    peak = await ferry.peakRss();
  } finally {
    await ferry.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }

  const base = rows[0]!;
  const ferryRow = rows.at(-1)!;
  const verifiers = rows.filter((r) => r.verifies === 'yes' && r !== ferryRow);
  return {
    part: 'large',
    title: `Large file: ${(bytes / 2 ** 30).toFixed(2)} GiB, median of ${ctx.repeat}`,
    baseline: base.name,
    rows: withRatios(rows, base).map((r) => ({ ...r, mib_per_s: bytes / 2 ** 20 / r.seconds! })),
    peak_rss: peak,
    notes: [`SHA-256 on one core: Node crypto ${sha.node_mb_s.toFixed(0)} MB/s, openssl speed -evp sha256 ${sha.openssl_mb_s?.toFixed(0) ?? 'n/a'} MB/s, sha256sum ${sha.sha256sum_mb_s?.toFixed(0) ?? 'n/a'} MB/s`],
    sha256_rates: sha,
    targets: [
      { name: 'Ferry no slower than 1.25 × cp + sync', ok: ferryRow.seconds! <= 1.25 * base.seconds! },
      { name: 'Ferry faster than every tool that also verifies a checksum', ok: verifiers.every((r) => ferryRow.seconds! < r.seconds!) },
    ],
  };
}

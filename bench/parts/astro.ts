import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { searchProducts } from '../../services/core/repositories/sky-search.repository';
import { createTestDatabase } from '../../test/support/database';
import { cpuSeconds } from '../lib/cpu';
import { publishSeconds, stageColdCopy, startFerry, type Ferry } from '../lib/ferry';
import { median, quantile, since } from '../lib/measure';
import type { BenchContext, PartResult, Row } from '../lib/result';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** A FITS image of about `bytes` written by astropy with CHECKSUM and DATASUM. */
async function writeFits(file: string, bytes: number): Promise<void> {
  const side = Math.floor(Math.sqrt(bytes / 4));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await promisify(execFile)(PYTHON, ['-c', `
import sys, numpy as np
from astropy.io import fits
h = fits.PrimaryHDU(np.random.default_rng(1).standard_normal((${side}, ${side}), dtype='float32').astype('>f4'))
h.header['DATE-OBS'] = '2026-01-02T03:04:05'
h.writeto(sys.argv[1], checksum=True)`, file], { timeout: 600_000, maxBuffer: 1 << 20 });
}

/** The shipped types with the image type's checksum verification switched on or off. */
async function typesFile(dir: string, verify: boolean): Promise<string> {
  const shipped = await fs.readFile(path.join(__dirname, '..', '..', '..', 'config', 'product-types.yaml'), 'utf8');
  const file = path.join(dir, `types-${verify}.yaml`);
  await fs.writeFile(file, shipped.replaceAll('fits: { verify_checksums: true }', `fits: { verify_checksums: ${verify} }`));
  return file;
}

/**
 * Seeds `n` published products with random sky positions and observation times over a year, as a
 * bulk load: row triggers set aside and the GiST indexes built once afterwards.
 */
async function seedSky(pool: Pool, n: number): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('ALTER TABLE products DISABLE TRIGGER USER');
    await c.query('DROP INDEX products_sky_obs_idx, products_obs_range_idx');
    await c.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, published_path, kind, status, ra_deg, dec_deg, obs_start, obs_end, published_at)
       SELECT 'sky-' || g, 'image', 'sky/' || g || '.fits', 'sky/' || g || '.fits', 'sky/' || g || '.fits', 'file', 'published',
              random() * 360, degrees(asin(2 * random() - 1)), t, t + interval '5 minutes', now()
         FROM generate_series(0, $1::int - 1) g,
              -- g in the lateral keeps it correlated: else PostgreSQL draws one random time for every row.
              LATERAL (SELECT timestamptz '2026-01-01' + random() * interval '365 days' + g * interval '0' AS t) tt`,
      [n],
    );
    // The same definitions as the migrations (product-types-lineage-obscore, sky-obs-index).
    await c.query('CREATE INDEX products_obs_range_idx ON products USING gist (obs_range) WHERE obs_range IS NOT NULL');
    await c.query('CREATE INDEX products_sky_obs_idx ON products USING gist (sky, obs_range) WHERE sky IS NOT NULL AND obs_range IS NOT NULL');
    await c.query('ALTER TABLE products ENABLE TRIGGER USER');
    await c.query('VACUUM (ANALYZE) products');
  } finally {
    c.release();
  }
}

/**
 * Part 6: the large-file publish of a checksummed FITS image with its checksums verified during
 * the copy against the same publish with verification off, and cone/time queries at scaleRows products.
 */
export async function astroProducts(ctx: BenchContext): Promise<PartResult> {
  const dir = path.join(ctx.workDir, 'astro');
  const src = path.join(dir, 'pool', 'large.fits');
  await writeFits(src, ctx.largeBytes);
  const size = (await fs.stat(src)).size;
  const rows: Row[] = [];
  // Both arms run side by side, their publishes interleaved (off, on, on, off, ...), so a change of
  // the machine's load during the part falls on both arms alike.
  const arms = [false, true];
  const ferries: Ferry[] = [];
  try {
    for (const verify of arms) {
      ferries.push(await startFerry(path.join(dir, `ferry-${verify}`), { mode: 'copy', concurrency: 1, env: { PRODUCT_TYPES_CONFIG: await typesFile(dir, verify) } }));
    }
    const seconds: number[][] = arms.map(() => []);
    // The worker's CPU seconds per publish: what verification adds, whatever else loads the machine.
    const cpu: number[][] = arms.map(() => []);
    for (let i = 0; i < ctx.repeat; i++) {
      for (const a of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const ferry = ferries[a]!;
        await stageColdCopy(ferry, src, i);
        const cpu0 = await cpuSeconds(ferry.pids.worker);
        seconds[a]!.push(await publishSeconds(ferry, i));
        const cpu1 = await cpuSeconds(ferry.pids.worker);
        if (cpu0 !== undefined && cpu1 !== undefined) cpu[a]!.push(cpu1 - cpu0);
      }
    }
    arms.forEach((verify, a) => {
      const s = median(seconds[a]!);
      rows.push({ name: `publish, FITS checksums ${verify ? 'verified' : 'not verified'}`, seconds: s, mib_per_s: size / 2 ** 20 / s, worker_cpu_s: median(cpu[a]!) });
      console.log(JSON.stringify({ ...rows.at(-1), runs: seconds[a], cpu: cpu[a] }));
    });
  } finally {
    for (const ferry of ferries) await ferry.stop();
  }
  await fs.rm(dir, { recursive: true, force: true });
  rows[1]!.ratio = rows[1]!.seconds! / rows[0]!.seconds!;

  const db = await createTestDatabase();
  try {
    await seedSky(db.pool, ctx.scaleRows);
    const queries: Record<string, (i: number) => Parameters<typeof searchProducts>[1]> = {
      'cone r=1°': (i) => ({ cone: { ra: (i * 37) % 360, dec: ((i * 13) % 160) - 80, radius: 1 }, limit: 100 }),
      'time 1 h': (i) => ({ obsSince: new Date(Date.parse('2026-01-01') + i * 86_400_000), obsUntil: new Date(Date.parse('2026-01-01') + i * 86_400_000 + 3_600_000), limit: 100 }),
      'cone r=5° and 30 days': (i) => ({ cone: { ra: (i * 37) % 360, dec: ((i * 13) % 160) - 80, radius: 5 }, obsSince: new Date('2026-03-01'), obsUntil: new Date('2026-03-31'), limit: 100 }),
    };
    for (const [name, make] of Object.entries(queries)) {
      const ms: number[] = [];
      for (let i = 0; i < 300; i++) {
        const t0 = process.hrtime.bigint();
        await searchProducts(db.pool, make(i));
        ms.push(since(t0) * 1000);
      }
      rows.push({ name: `query ${name} @ ${ctx.scaleRows.toLocaleString('en')}`, p50_ms: quantile(ms, 0.5), p99_ms: quantile(ms, 0.99) });
      console.log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await db.drop();
  }
  const verified = rows[1]!;
  return {
    part: 'astro',
    title: `Product types: ${(size / 2 ** 30).toFixed(2)} GiB checksummed FITS publish (median of ${ctx.repeat}); search over ${ctx.scaleRows.toLocaleString('en')} products (300 queries each)`,
    baseline: 'the same publish with FITS checksum verification off',
    rows,
    peak_rss: {},
    targets: [
      { name: 'checksum verification no slower than without it (within 10 %)', ok: verified.ratio! <= 1.1 },
      { name: `every search p99 under 50 ms at ${ctx.scaleRows.toLocaleString('en')} products`, ok: rows.slice(2).every((r) => Number(r.p99_ms) < 50) },
    ],
  };
}

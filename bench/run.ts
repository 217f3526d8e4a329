// Ferry's benchmarks: `npm run bench` runs every part, `npm run bench -- large small` some of them.
// Every figure stands beside a baseline measured in the same run, on the same files.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiLatency } from './parts/api';
import { astroProducts } from './parts/astro';
import { consolePages } from './parts/console';
import { directoryProduct } from './parts/directory';
import { largeFile } from './parts/large-file';
import { registryScale } from './parts/scale';
import { smallProducts } from './parts/small-products';
import { dropCaches } from './lib/files';
import type { BenchContext, PartResult } from './lib/result';

const PARTS: Record<string, (ctx: BenchContext) => Promise<PartResult>> = {
  large: largeFile, small: smallProducts, dir: directoryProduct, api: apiLatency, scale: registryScale, astro: astroProducts, console: consolePages,
};
const BENCH_DIR = path.join(__dirname, '..', '..', 'bench');
const USAGE = `usage: npm run bench [-- PART...]   parts: ${Object.keys(PARTS).join(', ')} (default: all)
environment: BENCH_DIR (work directory, default bench/work), BENCH_REPEAT (3), BENCH_LARGE_MB (1024),
BENCH_SMALL_COUNT (5000), BENCH_DIR_FILES (2000), BENCH_CONCURRENCY (8), BENCH_SCALE_ROWS (1000000),
BENCH_NODE_OPTIONS (NODE_OPTIONS for the api and worker, e.g. --cpu-prof --cpu-prof-dir=DIR)`;

const num = (v: string | undefined, d: number) => (v ? Number(v) : d);
const fmt = (v: unknown) => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toFixed(v < 1 ? 3 : 2)) : String(v ?? ''));
const mib = (b: number | undefined) => (b ? `${(b / 2 ** 20).toFixed(0)} MiB` : 'n/a');

function print(result: PartResult): void {
  console.log(`\n## ${result.title}\nbaseline: ${result.baseline}`);
  const cols = [...new Set(result.rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== 'endpoint');
  const cells = result.rows.map((r) => cols.map((c) => fmt(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((l) => l[i]!.length)));
  console.log(cols.map((c, i) => c.padEnd(width[i]!)).join('  '));
  for (const line of cells) console.log(line.map((v, i) => v.padEnd(width[i]!)).join('  '));
  console.log(`peak RSS: api ${mib(result.peak_rss.api)}, worker ${mib(result.peak_rss.worker)}`);
  for (const n of result.notes ?? []) console.log(n);
  for (const t of result.targets) console.log(`${t.ok ? 'met   ' : 'MISSED'}  ${t.name}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void console.log(USAGE);
  const unknown = args.filter((a) => !PARTS[a]);
  if (unknown.length) throw new Error(`unknown part ${unknown.join(', ')}\n${USAGE}`);
  const ctx: BenchContext = {
    workDir: path.resolve(process.env.BENCH_DIR ?? path.join(BENCH_DIR, 'work')),
    repeat: num(process.env.BENCH_REPEAT, 3),
    largeBytes: num(process.env.BENCH_LARGE_MB, 1024) * 2 ** 20,
    smallCount: num(process.env.BENCH_SMALL_COUNT, 5000),
    dirFiles: num(process.env.BENCH_DIR_FILES, 2000),
    concurrency: num(process.env.BENCH_CONCURRENCY, 8),
    scaleRows: num(process.env.BENCH_SCALE_ROWS, 1_000_000),
  };
  await fs.mkdir(ctx.workDir, { recursive: true });
  const machine = { cores: os.availableParallelism(), memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, page_cache_dropped_at_start: await dropCaches() };
  console.log(`Ferry benchmarks on ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}`);
  const results: PartResult[] = [];
  for (const name of args.length ? args : Object.keys(PARTS)) {
    const result = await PARTS[name]!(ctx);
    print(result);
    results.push(result);
  }
  await fs.rm(ctx.workDir, { recursive: true, force: true });
  const file = path.join(BENCH_DIR, 'results.json');
  await fs.writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, settings: ctx, results }, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});

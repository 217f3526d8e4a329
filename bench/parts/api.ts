import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { prepareNginx, type NginxUnderTest } from '../../test/support/nginx';
import { createTestCertificate } from '../../test/support/tls';
import { startFerry } from '../lib/ferry';
import { assertAllOk, load, medianLoad } from '../lib/load';
import { seedProducts } from '../lib/seed';
import type { BenchContext, PartResult, Row } from '../lib/result';

/**
 * The production nginx/ configuration on loopback with TLS. Its per-IP limits (10 r/s) exist to
 * stop one client: here one client is the whole load, so only the limit_req rates and bursts are raised.
 */
async function nginxFor(upstreamPort: number, cert: { certFile: string; keyFile: string }): Promise<NginxUnderTest> {
  const nginx = await prepareNginx({ cert: cert.certFile, key: cert.keyFile, apiUpstream: `127.0.0.1:${upstreamPort}`, overrides: { NGINX_LIMIT_CONN_PER_IP: '10000' } });
  const conf = path.join(nginx.dir, 'nginx.conf');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replace(/rate=\d+r\/s/g, 'rate=1000000r/s'));
  // limit_req counts in whole milliseconds: more than `burst` requests within one millisecond are
  // refused whatever the rate, so the bursts go up too.
  for (const f of fs.readdirSync(path.join(nginx.dir, 'conf.d'))) {
    const file = path.join(nginx.dir, 'conf.d', f);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/burst=\d+/g, 'burst=100000'));
  }
  await nginx.start();
  return nginx;
}

/** Starts the bare route (bench/lib/hello-server) in its own process; resolves with it and its port. */
async function startHello(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(__dirname, '../lib/hello-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the bare route exited with ${code}`)));
  });
  return { child, port };
}

/** API_WORKERS for the api under test: the cluster size is chosen by running this part with each. */
const apiWorkers = (): string => process.env.BENCH_API_WORKERS ?? '1';

/** Issue targets: each read endpoint at ≥ 0.4 × the bare route flat out, p99 at 500 req/s ≤ 1.3 × its p99, api RSS < 250 MiB. */
const TARGET = { rpsRatio: 0.4, p99Ratio: 1.3, rssBytes: 250 * 1024 * 1024 };

/** Part 4: the read endpoints through nginx with TLS, against a bare Express "hello" route behind the same nginx. */
export async function apiLatency(ctx: BenchContext): Promise<PartResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-api-'));
  const cert = createTestCertificate(path.join(dir, 'tls'));
  const ca = fs.readFileSync(cert.caFile);
  const hello = await startHello();
  const ferry = await startFerry(path.join(ctx.workDir, 'api'), { worker: false, env: { API_WORKERS: apiWorkers() } });
  await seedProducts(ferry.db.pool, 0, 10_000);
  const nginxHello = await nginxFor(hello.port, cert);
  const nginxFerry = await nginxFor(Number(new URL(ferry.url).port), cert);
  const rows: Row[] = [];
  let peak;
  try {
    const targets: [string, string, NginxUnderTest][] = [
      ['Express "hello" (baseline)', '/api/hello', nginxHello],
      ['GET /api/products/{id}', '/api/products/seed-4321', nginxFerry],
      ['GET /api/monitoring/publish/status', '/api/monitoring/publish/status', nginxFerry],
      ['GET /api/monitoring/publish/failed', '/api/monitoring/publish/failed?limit=50', nginxFerry],
    ];
    for (const [name, p, nginx] of targets) {
      const url = `https://localhost:${nginx.ports.https}${p}`;
      const headers = { authorization: `Bearer ${ferry.token}` };
      const max = assertAllOk(name, await load(url, { connections: 32, seconds: 10, headers, ca }));
      const fixed = await medianLoad(name, url, { rate: 500, connections: 32, seconds: 10, headers, ca }, ctx.repeat);
      rows.push({ name, rps_32_conn: max.rps, p99_ms_32_conn: max.p99_ms, p50_ms_at_500_rps: fixed.p50_ms, p99_ms_at_500_rps: fixed.p99_ms });
    }
    peak = await ferry.peakRss();
  } finally {
    await Promise.all([nginxHello.stop(), nginxFerry.stop(), ferry.stop()]);
    hello.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0]!;
  const withRatios = rows.map((r) => ({
    ...r,
    rps_ratio: Number(r.rps_32_conn) / Number(base.rps_32_conn),
    p99_ratio_at_500_rps: Number(r.p99_ms_at_500_rps) / Number(base.p99_ms_at_500_rps),
  }));
  const ferryRows = withRatios.slice(1);
  return {
    part: 'api',
    title: `API (API_WORKERS=${apiWorkers()}) through nginx with TLS: 32 connections flat out, then 500 req/s (median of ${ctx.repeat} runs of 10 s)`,
    baseline: base.name,
    rows: withRatios,
    peak_rss: peak,
    targets: [
      { name: `every read endpoint at ≥ ${TARGET.rpsRatio} × the bare route's throughput`, ok: ferryRows.every((r) => r.rps_ratio >= TARGET.rpsRatio) },
      { name: `p99 at 500 req/s ≤ ${TARGET.p99Ratio} × the bare route's`, ok: ferryRows.every((r) => r.p99_ratio_at_500_rps <= TARGET.p99Ratio) },
      { name: 'api peak RSS < 250 MiB', ok: (peak?.api ?? Infinity) < TARGET.rssBytes },
    ],
  };
}

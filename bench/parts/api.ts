import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareNginx, type NginxUnderTest } from '../../test/support/nginx';
import { createTestCertificate } from '../../test/support/tls';
import { startBaseline, stopBaseline } from '../lib/baseline';
import { cpuSeconds } from '../lib/cpu';
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

/** API_WORKERS for the api under test: the cluster size is chosen by running this part with each. */
const apiWorkers = (): string => process.env.BENCH_API_WORKERS ?? '1';

/** Issue targets: each read endpoint at ≥ 0.4 × the bare route flat out, p99 at 500 req/s ≤ 1.3 × its p99, api RSS < 250 MiB. */
const TARGET = { rpsRatio: 0.4, p99Ratio: 1.3, rssBytes: 250 * 1024 * 1024 };

/** Part 4: the read endpoints through nginx with TLS, against a bare Express "hello" route behind the same nginx. */
export async function apiLatency(ctx: BenchContext): Promise<PartResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-api-'));
  const cert = createTestCertificate(path.join(dir, 'tls'));
  const ca = fs.readFileSync(cert.caFile);
  const hello = await startBaseline('hello-server.js');
  const ferry = await startFerry(path.join(ctx.workDir, 'api'), { worker: false, env: { API_WORKERS: apiWorkers() } });
  await seedProducts(ferry.db.pool, 0, 10_000);
  const floor = await startBaseline('floor-server.js', { DATABASE_URL: ferry.db.url, REDIS_PREFIX: `${ferry.redisPrefix}:floor` });
  const nginxHello = await nginxFor(hello.port, cert);
  const floorHttp = await startBaseline('floor-http-server.js', { DATABASE_URL: ferry.db.url, REDIS_PREFIX: `${ferry.redisPrefix}:floor` });
  const nginxFloor = await nginxFor(floor.port, cert);
  const nginxFloorHttp = await nginxFor(floorHttp.port, cert);
  const nginxFerry = await nginxFor(Number(new URL(ferry.url).port), cert);
  const rows: Row[] = [];
  let peak;
  try {
    const helloCpu = () => cpuSeconds(hello.child.pid);
    const ferryCpu = () => cpuSeconds(ferry.pids.api);
    const targets: [string, string, NginxUnderTest, () => Promise<number | undefined>][] = [
      ['Express "hello" (baseline)', '/api/hello', nginxHello, helloCpu],
      ['floor: Express + 1 Redis + the same PG read and JSON', '/api/products/seed-4321', nginxFloor, () => cpuSeconds(floor.child.pid)],
      ['floor without Express (node:http)', '/api/products/seed-4321', nginxFloorHttp, () => cpuSeconds(floorHttp.child.pid)],
      ['GET /api/products/{id}', '/api/products/seed-4321', nginxFerry, ferryCpu],
      ['GET /api/monitoring/publish/status', '/api/monitoring/publish/status', nginxFerry, ferryCpu],
      ['GET /api/monitoring/publish/failed', '/api/monitoring/publish/failed?limit=50', nginxFerry, ferryCpu],
    ];
    for (const [name, p, nginx, serverCpu] of targets) {
      const url = `https://localhost:${nginx.ports.https}${p}`;
      const headers = { authorization: `Bearer ${ferry.token}` };
      // CPU per request of the server process and of the load generator (this process), flat out:
      // what each request costs, which the ratios alone cannot tell from what else held the cores.
      const [server0, gen0] = [await serverCpu(), process.cpuUsage()];
      const max = assertAllOk(name, await load(url, { connections: 32, seconds: 10, headers, ca }));
      const [server1, gen] = [await serverCpu(), process.cpuUsage(gen0)];
      const served = max.rps * 10;
      const fixed = await medianLoad(name, url, { rate: 500, connections: 32, seconds: 10, headers, ca }, ctx.repeat);
      rows.push({
        name, rps_32_conn: max.rps, p99_ms_32_conn: max.p99_ms, p50_ms_at_500_rps: fixed.p50_ms, p99_ms_at_500_rps: fixed.p99_ms,
        server_cpu_us_per_req: ((server1! - server0!) / served) * 1e6,
        loadgen_cpu_us_per_req: (gen.user + gen.system) / served,
      });
    }
    peak = await ferry.peakRss();
  } finally {
    await Promise.all([nginxHello.stop(), nginxFloor.stop(), nginxFloorHttp.stop(), nginxFerry.stop()]);
    await Promise.all([stopBaseline(floor), stopBaseline(floorHttp)]);
    await ferry.stop();
    await stopBaseline(hello);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0]!;
  const withRatios = rows.map((r) => ({
    ...r,
    rps_ratio: Number(r.rps_32_conn) / Number(base.rps_32_conn),
    p99_ratio_at_500_rps: Number(r.p99_ms_at_500_rps) / Number(base.p99_ms_at_500_rps),
  }));
  const [floorRow, floorHttpRow] = [withRatios[1]!, withRatios[2]!];
  const ferryRows = withRatios.slice(3);
  const product = ferryRows[0]!;
  return {
    part: 'api',
    title: `API (API_WORKERS=${apiWorkers()}) through nginx with TLS: 32 connections flat out, then 500 req/s (median of ${ctx.repeat} runs of 10 s)`,
    baseline: base.name,
    rows: withRatios,
    peak_rss: peak,
    notes: [
      `the floor (the product read's round trips and answer, no Ferry middleware) is at ${floorRow.rps_ratio.toFixed(2)} × the bare route ` +
        `(${floorHttpRow.rps_ratio.toFixed(2)} × without Express); ` +
        `Ferry's product read at ${(product.rps_ratio / floorRow.rps_ratio).toFixed(2)} × the floor's throughput`,
    ],
    targets: [
      { name: `every read endpoint at ≥ ${TARGET.rpsRatio} × the bare route's throughput`, ok: ferryRows.every((r) => r.rps_ratio >= TARGET.rpsRatio) },
      { name: `p99 at 500 req/s ≤ ${TARGET.p99Ratio} × the bare route's`, ok: ferryRows.every((r) => r.p99_ratio_at_500_rps <= TARGET.p99Ratio) },
      { name: 'api peak RSS < 250 MiB', ok: (peak?.api ?? Infinity) < TARGET.rssBytes },
    ],
  };
}

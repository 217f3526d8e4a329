import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
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

/** Part 4: the read endpoints through nginx with TLS, against a bare Express "hello" route behind the same nginx. */
export async function apiLatency(ctx: BenchContext): Promise<PartResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-api-'));
  const cert = createTestCertificate(path.join(dir, 'tls'));
  const ca = fs.readFileSync(cert.caFile);
  const hello = express().get(/.*/, (_req, res) => { res.json({ hello: 'world' }); });
  const helloServer = http.createServer(hello).listen(0, '127.0.0.1');
  await new Promise((r) => helloServer.once('listening', r));
  const ferry = await startFerry(path.join(ctx.workDir, 'api'), { worker: false });
  await seedProducts(ferry.db.pool, 0, 10_000);
  const nginxHello = await nginxFor((helloServer.address() as { port: number }).port, cert);
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
    helloServer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0]!;
  return {
    part: 'api',
    title: `API through nginx with TLS: 32 connections flat out, then 500 req/s (median of ${ctx.repeat} runs of 10 s)`,
    baseline: base.name,
    rows: rows.map((r) => ({ ...r, rps_ratio: Number(r.rps_32_conn) / Number(base.rps_32_conn) })),
    peak_rss: peak,
    targets: [{ name: 'p99 < 50 ms at 500 req/s on every Ferry endpoint', ok: rows.slice(1).every((r) => Number(r.p99_ms_at_500_rps) < 50) }],
  };
}

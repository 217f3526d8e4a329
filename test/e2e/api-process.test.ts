import { spawnSync } from 'node:child_process';
import { productColumns } from '../../services/core/repositories/product.types';
import { version } from '../../services/core/version';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, writeFile, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';
import { parseExposition, promtoolProblems, sumOf } from '../support/prometheus';
import { deleteRedisPrefix, testRedisPrefix } from '../support/redis';
import { TEST_ADMIN_TOKEN } from '../support/tokens';
import { waitFor } from '../support/wait-for';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'Content-Type': 'application/json' };

/** Children of a process (the cluster workers of the api primary). */
function childPids(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

jest.setTimeout(60000);

describe('api process (dist/, API_WORKERS=2)', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  const prefix = testRedisPrefix();
  let api: NodeProcess;
  let base: string;
  let metricsUrl: string;
  let env: NodeJS.ProcessEnv;

  const scrape = async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    const port = await freePort();
    env = testEnv(
      { databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
      { PORT: String(port), METRICS_PORT: '0', API_WORKERS: '2', FERRY_ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: 'info', SHUTDOWN_GRACE_SECONDS: '10', FERRY_INSTANCE: 'e2e' },
    );
    api = startNodeProcess('api/main.js', env);
    const metricsLine = await api.waitForLog((l) => l.message === 'metrics listening');
    metricsUrl = `http://127.0.0.1:${String(metricsLine.port)}/metrics`;
    // Wait until both workers listen.
    await api.waitForLog(() => api.lines.filter((x) => x.message === 'api listening').length >= 2);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    api?.kill();
    await api?.exited;
    await deleteRedisPrefix(prefix);
    await db.drop();
    await roots.cleanup();
  });

  it('serves /metrics from the primary, aggregated over the workers, promtool-clean', async () => {
    const text = await scrape();
    expect(promtoolProblems(text)).toBe('');
    const m = parseExposition(text);
    // Registry-wide gauges and build info appear once, not summed over the two workers.
    expect(m.get(`ferry_build_info{version="${version}",role="api",service="ferry-api"}`)).toBe(1);
    for (const name of ['ferry_products', 'ferry_queue_jobs', 'ferry_oldest_staged_product_age_seconds', 'ferry_products_max_attempts_exceeded',
      'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'ferry_published_bytes_total', 'ferry_reconciler_requeued_total',
      'ferry_lease_reclaims_total', 'ferry_worker_heartbeat_timestamp_seconds']) {
      expect([...m.keys()].some((k) => k.split('{')[0] === name)).toBe(true);
    }
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE ferry_publish_duration_seconds histogram');
    expect(text).toContain('# TYPE ferry_publish_size_bytes histogram');
  });

  it('moves the request counters and the registry gauges when work happens', async () => {
    const before = parseExposition(await scrape());
    await writeFile(roots.stageRoot, 'mosaics/m1.fits', 'data');
    const reg = await fetch(`${base}/api/products`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ data_id: 'm1', data_type: 'mosaic', stage_path: 'mosaics/m1.fits' }),
    });
    expect(reg.status).toBe(201);
    for (let i = 0; i < 6; i++) expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const after = parseExposition(await scrape());
    const live = { route: '/health/live', status: '200' };
    expect(sumOf(after, 'http_requests_total', live) - sumOf(before, 'http_requests_total', live)).toBe(6);
    expect(sumOf(after, 'http_request_duration_seconds_count', { route: '/api/products', status: '201' })).toBe(1);
    expect(sumOf(after, 'ferry_products', { status: 'staging', data_type: 'mosaic' })).toBe(1);
    expect(sumOf(after, 'ferry_queue_jobs', { state: 'waiting' }) - sumOf(before, 'ferry_queue_jobs', { state: 'waiting' })).toBe(1);
    expect(sumOf(after, 'ferry_oldest_staged_product_age_seconds')).toBeGreaterThanOrEqual(0);
    // Requests went to both workers; the aggregate still counts each exactly once.
    expect(childPids(api.child.pid!)).toHaveLength(2);
  });

  it('passes its own health check command', () => {
    const ok = spawnSync(process.execPath, ['dist/ops/healthcheck.js', 'api'], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const closed = spawnSync(process.execPath, ['dist/ops/healthcheck.js', 'api', 'live'], { env: { PATH: process.env.PATH, ...env, PORT: '1' }, encoding: 'utf8' });
    expect(closed.status).toBe(1);
    expect(closed.stderr).toMatch(/unhealthy: api \/health\/live/);
  });

  it('restarts a worker that crashed', async () => {
    const [victim] = childPids(api.child.pid!);
    process.kill(victim!, 'SIGKILL');
    await api.waitForLog((l) => l.message === 'api worker exited; restarting' && l.worker_pid === victim);
    const deadline = Date.now() + 20000;
    let pids: number[] = [];
    while (Date.now() < deadline) {
      pids = childPids(api.child.pid!);
      if (pids.length === 2 && !pids.includes(victim!)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(victim);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
  });

  it('on SIGTERM finishes a slow request in flight, then exits 0', async () => {
    await writeFile(roots.stageRoot, 'images/slow.fits', 'data');
    const reg = await fetch(`${base}/api/products`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ data_id: 'slow', data_type: 'image', stage_path: 'images/slow.fits', auto_publish: false }),
    });
    expect(reg.status).toBe(201);
    // No worker runs: a retry that waits for the outcome holds the request open for the whole wait.
    const before = (await db.pool.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t;
    const started = Date.now();
    const slow = fetch(`${base}/api/monitoring/publish/retry/slow?wait=3`, { method: 'POST', headers: { Authorization: auth.Authorization } });
    // Signal only once the request is inside the handler: its poll of the product (every 250 ms)
    // shows in pg_stat_activity as a connection's latest query.
    await waitFor(async () => (await db.pool.query(
      `SELECT 1 FROM pg_stat_activity
        WHERE datname = current_database() AND query = $2 AND query_start > $1`,
      [before, `SELECT ${productColumns()} FROM products WHERE data_id = $1`],
    )).rowCount! > 0, 10000, 'the retry request to reach the api');
    api.child.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ retried: false, status: 'queued' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(await api.exited).toBe(0);
    // It drained rather than waiting out SHUTDOWN_GRACE_SECONDS and cutting connections.
    expect(api.lines.some((l) => l.message === 'requests still open after the grace period were cut')).toBe(false);
    // New connections are refused once it stopped.
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
    expect(api.lines.some((l) => l.message === 'api primary stopped')).toBe(true);
  });
});

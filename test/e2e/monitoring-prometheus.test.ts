import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, writeFile, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { PROMETHEUS_DIR, ROOT, type Managed, concreteQuery, dashboards, readYaml, recordingRules, startProcess } from '../support/monitoring';
import { freePort } from '../support/free-port';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { deleteRedisPrefix, testRedisPrefix } from '../support/redis';
import { TEST_ADMIN_TOKEN } from '../support/tokens';
import { waitFor } from '../support/wait-for';

/**
 * The real Prometheus (Debian's 2.42) with the production scrape configuration and rules — only
 * the target addresses and the intervals changed — against the natively started api and worker
 * (dist/) and the exporters Debian packages. After real publishes, a failure and requests, every
 * Grafana panel query and every recording rule must return data.
 */
jest.setTimeout(240000);

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'Content-Type': 'application/json' };

/** Panels whose data only cAdvisor provides: it needs a Docker engine and the host's cgroups. */
const NOT_LIVE: Record<string, string> = {
  'infrastructure/Container CPU': 'cAdvisor cannot run here (no Docker engine to watch)',
  'infrastructure/Container memory': 'cAdvisor cannot run here (no Docker engine to watch)',
  'infrastructure/Container restarts (1 h)': 'cAdvisor cannot run here (no Docker engine to watch)',
};

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

let dir: string;
let db: TestDatabase;
let roots: TestRoots;
const prefix = testRedisPrefix();
let api: NodeProcess | undefined;
let worker: NodeProcess | undefined;
const managed: Managed[] = [];
let promUrl: string;
let apiUrl: string;

async function query(expr: string): Promise<QueryResult> {
  const res = await fetch(`${promUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }).toString(),
  });
  return (await res.json()) as QueryResult;
}

async function ok(url: string): Promise<true | undefined> {
  return (await fetch(url)).ok ? true : undefined;
}

function start(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Managed {
  const m = startProcess(cmd, args, { env });
  managed.push(m);
  return m;
}

/** Every query the dashboards and recording rules define, keyed for messages. */
function allQueries(): { key: string; expr: string; live: boolean }[] {
  const out: { key: string; expr: string; live: boolean }[] = [];
  for (const [name, d] of Object.entries(dashboards())) {
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        out.push({ key: `${name}/${p.title} [${t.refId}]`, expr: concreteQuery(t.expr), live: !NOT_LIVE[`${name}/${p.title}`] });
      }
    }
  }
  for (const r of recordingRules()) out.push({ key: `recording rule ${r.record}`, expr: r.record, live: true });
  return out;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-prom-e2e-'));
  [db, roots] = await Promise.all([createTestDatabase(), createTestRoots()]);
  const [apiPort, apiMetrics, workerMetrics, nodePort, pgPort, redisPort, nginxPort, nginxExpPort, promPort, deadPort] = await Promise.all(
    Array.from({ length: 10 }, () => freePort()),
  );

  // Ferry, built: one api process (API_WORKERS=1) and one worker, each with its metrics listener.
  const env = testEnv(
    { databaseUrl: db.url, redisPrefix: prefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
    {
      PORT: String(apiPort), METRICS_PORT: String(apiMetrics), API_WORKERS: '1', FERRY_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      RATE_LIMIT_PER_IP: '5', WORKER_HEARTBEAT_INTERVAL_SECONDS: '1', RECONCILE_INTERVAL_SECONDS: '1', FERRY_INSTANCE: 'monitoring-e2e',
    },
  );
  api = startNodeProcess('api/main.js', env);
  worker = startNodeProcess('worker/main.js', { ...env, METRICS_PORT: String(workerMetrics) });
  apiUrl = `http://127.0.0.1:${apiPort}`;

  // Exporters from Debian's packages; node-exporter reads textfile metrics as deploy/backup.sh and
  // deploy/monitoring.sh cert-metrics write them.
  const textfile = path.join(dir, 'textfile');
  fs.mkdirSync(textfile);
  const now = Math.floor(Date.now() / 1000);
  fs.writeFileSync(
    path.join(textfile, 'ferry_backup.prom'),
    [
      `ferry_backup_last_success_timestamp_seconds ${now - 3600}`,
      'ferry_backup_last_attempt_status 1',
      'ferry_backup_duration_seconds 12.5',
      'ferry_backup_size_bytes 1048576',
      `ferry_audit_last_run_timestamp_seconds ${now - 7200}`,
      'ferry_audit_mismatches 0',
      `ferry_tls_certificate_expiry_timestamp_seconds{file="fullchain.pem"} ${now + 60 * 86400}`,
      '',
    ].join('\n'),
  );
  start('/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nodePort}`, `--collector.textfile.directory=${textfile}`]);
  start('/usr/bin/prometheus-postgres-exporter', [`--web.listen-address=127.0.0.1:${pgPort}`], {
    ...process.env, DATA_SOURCE_NAME: `${db.url}${db.url.includes('?') ? '&' : '?'}sslmode=disable`,
  });
  start('/usr/bin/prometheus-redis-exporter', [`-redis.addr=redis://127.0.0.1:6379`, `-web.listen-address=127.0.0.1:${redisPort}`]);
  const nginxDir = path.join(dir, 'nginx');
  fs.mkdirSync(nginxDir);
  fs.writeFileSync(
    path.join(nginxDir, 'nginx.conf'),
    `worker_processes 1;\ndaemon off;\npid ${nginxDir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n` +
      ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${nginxDir}/${t};\n`).join('') +
      `  server { listen 127.0.0.1:${nginxPort}; location = /stub_status { stub_status; } }\n}\n`,
  );
  const nginx = start('nginx', ['-p', nginxDir, '-c', path.join(nginxDir, 'nginx.conf'), '-e', 'stderr']);
  // The exporter exits at start when stub_status does not answer yet (in Compose, its restart policy retries).
  await waitFor(() => ok(`http://127.0.0.1:${nginxPort}/stub_status`), 30000, 'nginx stub_status', 250).catch((e) => {
    throw new Error(`${String(e)}
${nginx.output()}`);
  });
  start('/usr/bin/prometheus-nginx-exporter', [`-nginx.scrape-uri=http://127.0.0.1:${nginxPort}/stub_status`, `-web.listen-address=127.0.0.1:${nginxExpPort}`]);

  // The production prometheus.yml with only target addresses and intervals changed.
  const targets: Record<string, string> = {
    'ferry-api': `127.0.0.1:${apiMetrics}`,
    'ferry-worker': `127.0.0.1:${workerMetrics}`,
    node: `127.0.0.1:${nodePort}`,
    cadvisor: `127.0.0.1:${deadPort}`,
    postgres: `127.0.0.1:${pgPort}`,
    redis: `127.0.0.1:${redisPort}`,
    nginx: `127.0.0.1:${nginxExpPort}`,
    alertmanager: `127.0.0.1:${deadPort}`,
    prometheus: `127.0.0.1:${promPort}`,
  };
  const cfg = readYaml<Record<string, unknown> & { scrape_configs: Record<string, unknown>[]; rule_files: string[] }>('monitoring/prometheus/prometheus.yml');
  cfg.global = { ...(cfg.global as object), scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  cfg.rule_files = cfg.rule_files.map((f) => path.join(PROMETHEUS_DIR, f));
  cfg.alerting = { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${deadPort}`] }] }] };
  for (const job of cfg.scrape_configs) {
    const target = targets[job.job_name as string];
    if (!target) throw new Error(`no test target for scrape job ${String(job.job_name)}`);
    delete job.dns_sd_configs;
    job.static_configs = [{ targets: [target] }];
  }
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(cfg));
  promUrl = `http://127.0.0.1:${promPort}`;
  const prom = start('/usr/bin/prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);

  await waitFor(() => ok(`${apiUrl}/health/ready`), 60000, 'api ready', 250).catch((e) => {
    throw new Error(`${String(e)}\n${api?.stderr.join('')}\n${JSON.stringify(api?.lines.slice(-5))}`);
  });
  await waitFor(() => ok(`http://127.0.0.1:${workerMetrics}/metrics`), 60000, 'worker metrics', 250).catch((e) => {
    throw new Error(`${String(e)}\n${worker?.stderr.join('')}\n${JSON.stringify(worker?.lines.slice(-5))}`);
  });
  await waitFor(() => ok(`${promUrl}/-/ready`), 60000, 'prometheus ready', 250).catch((e) => {
    throw new Error(`${String(e)}\n${prom.output()}`);
  });
});

afterAll(async () => {
  api?.child.kill('SIGTERM');
  worker?.child.kill('SIGTERM');
  await Promise.all(managed.map((m) => m.stop()));
  const killTimer = setTimeout(() => {
    api?.kill();
    worker?.kill();
  }, 15000);
  await Promise.all([api?.exited, worker?.exited]);
  clearTimeout(killTimer);
  await deleteRedisPrefix(prefix);
  await db?.drop();
  await roots?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Prometheus on live Ferry data', () => {
  it('scrapes the api, the worker and every exporter that runs here', async () => {
    const up = await waitFor(async () => {
      const r = await query('up');
      const byJob = Object.fromEntries((r.data?.result ?? []).map((s) => [s.metric.job, s.value[1]]));
      const live = ['ferry-api', 'ferry-worker', 'node', 'postgres', 'redis', 'nginx', 'prometheus'];
      return live.every((j) => byJob[j] === '1') && byJob.cadvisor !== undefined && byJob.alertmanager !== undefined ? byJob : undefined;
    }, 60000, 'every live target up', 250).catch(async (e) => {
      const targets = await (await fetch(`${promUrl}/api/v1/targets`)).text();
      throw new Error(`${String(e)}\n${targets}\n${managed.map((m) => m.output().slice(-1500)).join('\n---\n')}`);
    });
    // cAdvisor and Alertmanager are pointed at a closed port: they are reported down, as in production.
    expect(up).toMatchObject({ cadvisor: '0', alertmanager: '0' });
    const comp = await query('count by (component) (up)');
    expect(comp.data?.result.map((s) => s.metric.component).sort()).toEqual(['api', 'containers', 'host', 'monitoring', 'nginx', 'postgres', 'redis', 'worker']);
  });

  it('sees publishes, a failure and requests, then every panel query and recording rule returns data', async () => {
    // Three products that publish, one whose checksum does not match, some reads, 404s, 401s and 429s.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const rel = `images/monitoring-${i}.fits`;
      await writeFile(roots.stageRoot, rel, crypto.randomBytes(4096 * (i + 1)));
      const res = await fetch(`${apiUrl}/api/products`, {
        method: 'POST', headers: auth, body: JSON.stringify({ data_id: `mon-${i}`, data_type: 'image', stage_path: rel }),
      });
      expect(res.status).toBe(201);
      ids.push(`mon-${i}`);
    }
    await writeFile(roots.stageRoot, 'images/bad.fits', 'not what was announced');
    const bad = await fetch(`${apiUrl}/api/products`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ data_id: 'mon-bad', data_type: 'image', stage_path: 'images/bad.fits', expected_sha256: '0'.repeat(64) }),
    });
    expect(bad.status).toBe(201);
    const statuses = await waitFor(async () => {
      const all = await Promise.all([...ids, 'mon-bad'].map(async (id) => ((await (await fetch(`${apiUrl}/api/products/${id}`, { headers: auth })).json()) as { status: string }).status));
      return all.every((s) => s === 'published' || s === 'failed') ? all : undefined;
    }, 60000, 'publishes to finish', 500);
    expect(statuses).toEqual(['published', 'published', 'published', 'failed']);

    // Enough answered reads that the 429s the anonymous requests below draw (at most 8) stay under
    // ApiRateLimitedSurge's 10 % of all requests, however few status polls the publishes took.
    for (let i = 0; i < 80; i++) expect((await fetch(`${apiUrl}/api/products?limit=10`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${apiUrl}/api/products/does-not-exist`, { headers: auth })).status).toBe(404);
    const anonymous = [];
    for (let i = 0; i < 8; i++) anonymous.push((await fetch(`${apiUrl}/api/products`)).status);
    expect(anonymous).toContain(401);
    expect(anonymous).toContain(429);

    // Every query returns at least one series once a few scrapes have seen the work.
    const queries = allQueries();
    let missing: string[] = [];
    await waitFor(async () => {
      missing = [];
      for (const q of queries) {
        const r = await query(q.expr);
        if (r.status !== 'success') throw new Error(`${q.key}: ${r.error} (${q.expr})`);
        if (q.live && (r.data?.result.length ?? 0) === 0) missing.push(q.key);
      }
      return missing.length === 0 ? true : undefined;
    }, 90000, 'every panel and recording rule to return data', 2000).catch((e) => {
      throw new Error(`${String(e)}\nno data for:\n  ${missing.join('\n  ')}`);
    });
  });

  it('parses the queries of panels whose exporter cannot run here, and lists each with a reason', async () => {
    const names = new Set(Object.entries(dashboards()).flatMap(([n, d]) => d.panels.map((p) => `${n}/${p.title}`)));
    for (const key of Object.keys(NOT_LIVE)) expect([key, names.has(key)]).toEqual([key, true]);
    for (const q of allQueries().filter((x) => !x.live)) {
      const r = await query(q.expr);
      expect([q.key, r.status, r.error]).toEqual([q.key, 'success', undefined]);
    }
  });

  it('records a publish success ratio between the successes and the failure', async () => {
    const r = await waitFor(async () => {
      const v = Number((await query('ferry:publish_success:ratio_rate1h')).data?.result[0]?.value[1]);
      return Number.isFinite(v) && v > 0 && v < 1 ? v : undefined;
    }, 30000, 'success ratio', 1000);
    expect(r).toBeCloseTo(0.75, 1);
  });

  it('counts the failure by its error class and outcome', async () => {
    const r = await query('sum by (error_class, outcome) (ferry_publish_failures_total) > 0');
    expect(r.data?.result.map((s) => s.metric)).toEqual([{ error_class: 'checksum_mismatch', outcome: 'failed' }]);
  });

  it('raises exactly the alerts this data calls for: the failed publish and the targets that cannot run here', async () => {
    // Host, PostgreSQL and Redis alerts watch the machine and the servers every test file shares
    // (a busy CI runner, other tests' connections and deadlocks), not this Ferry.
    const shared = ['host', 'postgres', 'redis'];
    const current = async () => ((await query('ALERTS')).data?.result ?? []).map((s) => s.metric).filter((m) => !shared.includes(m.component ?? ''));
    // The alert groups run after the recording groups they read: wait for the evaluation that sees the ratio.
    await waitFor(async () => ((await current()).some((m) => m.alertname === 'PublishSuccessRateLow') ? true : undefined), 20000, 'PublishSuccessRateLow pending', 500);
    // While the four jobs waited, the backlog grew, and PublishQueueBacklogGrowing may have gone
    // pending; a scrape on a busy machine can still carry those counts. Once the scraped queue is
    // empty, the next evaluations must clear it: its condition needs jobs waiting.
    const backlog = 'sum(max by (state) (ferry_queue_jobs{state=~"wait|waiting|prioritized|delayed"}))';
    await waitFor(async () => (Number((await query(backlog)).data?.result[0]?.value[1] ?? 0) === 0 ? true : undefined), 30000, 'the scraped queue empty', 500).catch(async (e) => {
      const held = (await query('ferry_queue_jobs > 0')).data?.result.map((x) => `${x.metric.job}/${x.metric.state}=${x.value[1]}`);
      throw new Error(`${String(e)}; jobs per target and state: ${JSON.stringify(held)}`);
    });
    await waitFor(async () => ((await current()).some((m) => m.alertname === 'PublishQueueBacklogGrowing') ? undefined : true), 15000, 'PublishQueueBacklogGrowing cleared', 500);
    const alerts = await current();
    const unexpected = alerts
      .filter((m) => !(m.alertname === 'ServiceDown' && ['cadvisor', 'alertmanager'].includes(m.job ?? '')))
      .filter((m) => m.alertname !== 'PublishSuccessRateLow');
    expect(unexpected).toEqual([]);
    // One publish in four failed on purpose: 75 % success is below 95 %, pending its 5 minutes.
    expect(alerts.filter((m) => m.alertname === 'PublishSuccessRateLow').map((m) => m.alertstate)).toEqual(['pending']);
    const down = (await query('ALERTS{alertname="ServiceDown"}')).data?.result.map((s) => s.metric.job).sort();
    expect(down).toEqual(['alertmanager', 'cadvisor']);
    // Ferry's own database: present in the exporter's figures, and without deadlocks.
    const own = await query(`pg_stat_database_deadlocks{datname="${db.name}"}`);
    expect(own.data?.result.map((x) => x.value[1])).toEqual(['0']);
  });

  it('evaluates the alert rules without errors', async () => {
    const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const unhealthy = res.data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok');
    expect(unhealthy).toEqual([]);
    expect(fs.existsSync(path.join(ROOT, 'dist/api/main.js'))).toBe(true);
  });
});

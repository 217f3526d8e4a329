import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { ALERTMANAGER_DIR, type Managed, TEST_RUNBOOK_BASE_URL, readYaml, renderedAlertRules, startProcess } from '../support/monitoring';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait-for';

/**
 * The real Alertmanager (Debian's 0.25) with the rendered production configuration, a webhook
 * receiver in this test, and the real Prometheus evaluating the real ServiceDown rule.
 */
interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface WebhookMessage {
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}
interface ApiAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

// Deliveries wait for the production group_wait (30 s); allow well over that.
jest.setTimeout(150000);

let dir: string;
let am: Managed;
let prom: Managed;
let hook: http.Server;
let amUrl: string;
const received: WebhookMessage[] = [];

function alertsNamed(name: string): { receiver: string; alert: WebhookAlert }[] {
  return received.flatMap((m) => m.alerts.filter((a) => a.labels.alertname === name).map((alert) => ({ receiver: m.receiver, alert })));
}

async function postAlerts(alerts: { labels: Record<string, string>; annotations?: Record<string, string> }[]): Promise<void> {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((a) => ({ ...a, startsAt: new Date().toISOString() }))),
  });
  expect(res.status).toBe(200);
}

async function amAlert(labels: Record<string, string>): Promise<ApiAlert | undefined> {
  const filter = Object.entries(labels).map(([k, v]) => `filter=${encodeURIComponent(`${k}="${v}"`)}`).join('&');
  const res = await fetch(`${amUrl}/api/v2/alerts?${filter}`);
  const list = (await res.json()) as ApiAlert[];
  return list[0];
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-am-e2e-'));
  const hookPort = await freePort();
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as WebhookMessage);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(hookPort, '127.0.0.1', r));

  const config = path.join(dir, 'alertmanager.yml');
  const render = spawnSync('sh', [path.join(ALERTMANAGER_DIR, 'render-config.sh'), '--render-only'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      ALERTMANAGER_TEMPLATE: path.join(ALERTMANAGER_DIR, 'alertmanager.yml.tmpl'),
      ALERTMANAGER_CONFIG: config,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
    },
  });
  expect(render.status).toBe(0);

  const amPort = await freePort();
  amUrl = `http://127.0.0.1:${amPort}`;
  fs.mkdirSync(path.join(dir, 'am-data'));
  am = startProcess('/usr/bin/prometheus-alertmanager', [
    `--config.file=${config}`,
    `--storage.path=${path.join(dir, 'am-data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  await waitFor(async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined), 30000, 'alertmanager ready', 250).catch((e) => {
    throw new Error(`${String(e)}\n${am.output()}`);
  });

  // Prometheus with the real ServiceDown rule (its `for` shortened so the test need not wait 2 minutes)
  // and the real ferry-worker job pointed at a port where nothing listens.
  const serviceDown = renderedAlertRules().find((r) => r.alert === 'ServiceDown')!;
  fs.writeFileSync(path.join(dir, 'rules.yml'), YAML.stringify({ groups: [{ name: 'test', rules: [{ ...serviceDown, for: '0s' }] }] }));
  const real = readYaml<{ scrape_configs: Record<string, unknown>[] }>('monitoring/prometheus/prometheus.yml');
  const workerJob = real.scrape_configs.find((j) => j.job_name === 'ferry-worker')!;
  const deadPort = await freePort();
  const promPort = await freePort();
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    YAML.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [path.join(dir, 'rules.yml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [{ job_name: 'ferry-worker', static_configs: [{ targets: [`127.0.0.1:${deadPort}`] }], relabel_configs: workerJob.relabel_configs }],
    }),
  );
  prom = startProcess('/usr/bin/prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'prom-data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);

  // Posted straight to Alertmanager: a critical and its warning twin on one instance, the same
  // warning on another instance (nothing silences it), and a down alert with a dependent alert.
  await postAlerts([
    { labels: { alertname: 'HostMemoryCritical', severity: 'critical', component: 'host', alert_group: 'host-memory', instance: 'node-a:9100' } },
    { labels: { alertname: 'HostMemoryHigh', severity: 'warning', component: 'host', alert_group: 'host-memory', instance: 'node-a:9100' } },
    { labels: { alertname: 'HostMemoryHigh', severity: 'warning', component: 'host', alert_group: 'host-memory', instance: 'node-b:9100' } },
    { labels: { alertname: 'PostgresDown', severity: 'critical', kind: 'down', component: 'postgres', alert_group: 'postgres-down', instance: 'postgres-exporter:9187' } },
    { labels: { alertname: 'PostgresConnectionsHigh', severity: 'warning', component: 'postgres', alert_group: 'postgres-connections', instance: 'postgres-exporter:9187' } },
  ]);
});

afterAll(async () => {
  await prom?.stop();
  await am?.stop();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Alertmanager with the production configuration', () => {
  it('delivers a firing ServiceDown from Prometheus to the critical receiver with its labels', async () => {
    const got = await waitFor(async () => alertsNamed('ServiceDown')[0], 90000, 'ServiceDown at the webhook', 500).catch((e) => {
      throw new Error(`${String(e)}\nprometheus:\n${prom.output()}\nalertmanager:\n${am.output()}`);
    });
    expect(got.receiver).toBe('critical');
    expect(got.alert.status).toBe('firing');
    expect(got.alert.labels).toMatchObject({
      alertname: 'ServiceDown',
      severity: 'critical',
      kind: 'down',
      job: 'ferry-worker',
      component: 'worker',
    });
    expect(got.alert.annotations.runbook_url).toBe(`${TEST_RUNBOOK_BASE_URL}/runbooks.md#servicedown`);
    expect(got.alert.annotations.description).toContain('ferry-worker');
    const message = received.find((m) => m.alerts.some((a) => a.labels.alertname === 'ServiceDown'))!;
    expect(Object.keys(message.groupLabels).sort()).toEqual(['alertname', 'instance']);
  });

  it('routes a warning to the warning receiver', async () => {
    const got = await waitFor(async () => alertsNamed('HostMemoryHigh').find((a) => a.alert.labels.instance === 'node-b:9100'), 90000, 'HostMemoryHigh on node-b', 500);
    expect(got.receiver).toBe('warning');
  });

  it('lets a critical alert silence its warning twin on the same instance', async () => {
    const critical = await waitFor(async () => alertsNamed('HostMemoryCritical')[0], 90000, 'HostMemoryCritical', 500);
    expect(critical.receiver).toBe('critical');
    const twin = await amAlert({ alertname: 'HostMemoryHigh', instance: 'node-a:9100' });
    expect(twin?.status.state).toBe('suppressed');
    expect(twin?.status.inhibitedBy.length).toBeGreaterThan(0);
    // Both groups were flushed after the same group_wait; give the suppressed one time to show up if it would.
    await new Promise((r) => setTimeout(r, 3000));
    expect(alertsNamed('HostMemoryHigh').map((a) => a.alert.labels.instance)).toEqual(['node-b:9100']);
  });

  it('lets a down alert silence the alerts of the same component', async () => {
    await waitFor(async () => alertsNamed('PostgresDown')[0], 90000, 'PostgresDown', 500);
    const dependent = await amAlert({ alertname: 'PostgresConnectionsHigh' });
    expect(dependent?.status.state).toBe('suppressed');
    await new Promise((r) => setTimeout(r, 3000));
    expect(alertsNamed('PostgresConnectionsHigh')).toEqual([]);
  });
});

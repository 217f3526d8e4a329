import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { PROMETHEUS_DIR, ROOT, TEST_RUNBOOK_BASE_URL, alertRules, markdownAnchors, readYaml, recordingRules, renderRules } from '../support/monitoring';

/** Runs a tool; returns its exit status and output together so a failure shows why. */
function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface UnitTestFile {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const testFiles = fs.readdirSync(path.join(PROMETHEUS_DIR, 'tests')).filter((f) => f.endsWith('.test.yml'));

describe('Prometheus configuration', () => {
  it('passes promtool check config, rule files included', () => {
    const r = run('promtool', ['check', 'config', 'monitoring/prometheus/prometheus.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('passes promtool check rules', () => {
    const r = run('promtool', ['check', 'rules', 'monitoring/prometheus/rules/recording.yml', 'monitoring/prometheus/rules/alerts.yml']);
    expect(r.status).toBe(0);
  });

  it('scrapes every 15 s, every api and worker replica through DNS, and each exporter', () => {
    const cfg = readYaml<{ global: Record<string, string>; scrape_configs: Record<string, unknown>[] }>('monitoring/prometheus/prometheus.yml');
    expect(cfg.global.scrape_interval).toBe('15s');
    const jobs = Object.fromEntries(cfg.scrape_configs.map((j) => [j.job_name as string, j]));
    expect(jobs['ferry-api']).toMatchObject({ dns_sd_configs: [{ names: ['api'], type: 'A', port: 9464 }] });
    expect(jobs['ferry-worker']).toMatchObject({ dns_sd_configs: [{ names: ['worker'], type: 'A', port: 9465 }] });
    for (const [job, target] of [
      ['node', 'node-exporter:9100'],
      ['cadvisor', 'cadvisor:8080'],
      ['postgres', 'postgres-exporter:9187'],
      ['redis', 'redis-exporter:9121'],
      ['nginx', 'nginx-exporter:9113'],
      ['alertmanager', 'alertmanager:9093'],
    ]) {
      expect(jobs[job as string]).toMatchObject({ static_configs: [{ targets: [target] }] });
    }
    // Every target carries the component label the inhibition rules match on.
    for (const j of cfg.scrape_configs) {
      expect(j.relabel_configs).toEqual(expect.arrayContaining([expect.objectContaining({ target_label: 'component' })]));
    }
  });

  it('takes retention by time and size from the environment, 30 days by default', () => {
    const compose = readYaml<{ services: Record<string, { command: string[] }> }>('docker-compose.monitoring.yml');
    const cmd = compose.services.prometheus!.command;
    expect(cmd).toContain('--storage.tsdb.retention.time=${PROMETHEUS_RETENTION_TIME:-30d}');
    expect(cmd).toEqual(expect.arrayContaining([expect.stringMatching(/^--storage\.tsdb\.retention\.size=\$\{PROMETHEUS_RETENTION_SIZE:-/)]));
  });
});

describe('alert rules', () => {
  const rules = alertRules();
  const anchors = markdownAnchors('docs/runbooks.md');

  it('give every alert a severity, component, twin group, summary, description and runbook', () => {
    for (const r of rules) {
      expect([r.alert, ['critical', 'warning'].includes(r.labels.severity ?? '')]).toEqual([r.alert, true]);
      // ServiceDown takes `component` from the scraped target (every scrape job sets one).
      expect([r.alert, Boolean((r.labels.component || r.alert === 'ServiceDown') && r.labels.alert_group)]).toEqual([r.alert, true]);
      expect([r.alert, Boolean(r.annotations.summary && r.annotations.description && r.annotations.runbook_url)]).toEqual([r.alert, true]);
    }
  });

  it('put the live value in every description, except where the value is meaningless', () => {
    // absent() always yields 1: the description says what is missing instead.
    const valueless = new Set(['ServiceAbsent']);
    for (const r of rules.filter((x) => !valueless.has(x.alert))) {
      expect([r.alert, r.annotations.description]).toEqual([r.alert, expect.stringContaining('$value')]);
    }
  });

  it('link every runbook_url to a heading in docs/runbooks.md, under the configurable base URL', () => {
    for (const r of rules) {
      const m = /^\$\{FERRY_RUNBOOK_BASE_URL\}\/runbooks\.md#(.+)$/.exec(r.annotations.runbook_url ?? '');
      expect([r.alert, m?.[1] !== undefined && anchors.has(m[1])]).toEqual([r.alert, true]);
    }
  });

  it('give each twin group exactly one warning and one critical alert when it has both', () => {
    const groups = new Map<string, Set<string>>();
    for (const r of rules) {
      const g = groups.get(r.labels.alert_group!) ?? new Set<string>();
      g.add(`${r.alert}:${r.labels.severity}`);
      groups.set(r.labels.alert_group!, g);
    }
    expect([...groups.get('host-memory')!].sort()).toEqual(['HostMemoryCritical:critical', 'HostMemoryHigh:warning']);
    expect([...groups.get('disk-space')!].sort()).toEqual(['DiskSpaceCritical:critical', 'DiskSpaceLow:warning']);
  });

  it('cover every alert the issue asks for', () => {
    const names = new Set(rules.map((r) => r.alert));
    for (const n of [
      'ServiceDown', 'ContainerRestarting', 'WorkerHeartbeatStale', 'ApiErrorRatioHigh', 'ApiLatencyHigh', 'ApiRateLimitedSurge',
      'PublishSuccessRateLow', 'PublishFailuresHigh', 'ProductsMaxAttemptsExceeded', 'ProductStagedTooLong',
      'PublishQueueBacklogGrowing', 'PublishStalled', 'PostgresDown', 'PostgresConnectionsHigh', 'PostgresCacheHitRatioLow',
      'PostgresDeadlocks', 'RedisDown', 'RedisMemoryHigh', 'RedisRejectedConnections', 'HostCpuHigh', 'HostMemoryHigh',
      'HostMemoryCritical', 'DiskSpaceLow', 'DiskSpaceCritical', 'DiskFillingUp', 'BackupTooOld', 'BackupFailed',
      'TlsCertificateExpiring',
    ]) {
      expect([n, names.has(n)]).toEqual([n, true]);
    }
  });

  it('has a runbook section for every alert and no section without an alert', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docs/runbooks.md'), 'utf8');
    const sections = [...text.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    expect(new Set(sections)).toEqual(new Set(rules.map((r) => r.alert)));
  });
});

describe('promtool unit tests of the alert rules', () => {
  const files = testFiles.map((f) => ({ f, doc: YAML.parse(fs.readFileSync(path.join(PROMETHEUS_DIR, 'tests', f), 'utf8')) as UnitTestFile }));
  // The rules and their tests rendered as the deployment renders them (render-rules.sh), so the
  // tests compare each alert's runbook_url as Prometheus will send it.
  let rendered: string;
  beforeAll(() => {
    rendered = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rendered-rules-'));
    renderRules(path.join(PROMETHEUS_DIR, 'rules'), path.join(rendered, 'rules'));
    renderRules(path.join(PROMETHEUS_DIR, 'tests'), path.join(rendered, 'tests'));
  });
  afterAll(() => fs.rmSync(rendered, { recursive: true, force: true }));

  it('pass (promtool test rules) on the rendered rules', () => {
    const r = run('promtool', ['test', 'rules', ...testFiles.map((f) => path.join(rendered, 'tests', f))]);
    expect(r.out).not.toContain('FAILED');
    expect(r.status).toBe(0);
  });

  it('expect every firing alert\'s runbook_url to be the absolute rendered link', () => {
    const urls = testFiles.flatMap((f) => {
      const doc = YAML.parse(fs.readFileSync(path.join(rendered, 'tests', f), 'utf8')) as { tests: { alert_rule_test?: { exp_alerts: { exp_annotations?: Record<string, string> }[] }[] }[] };
      return doc.tests.flatMap((t) => (t.alert_rule_test ?? []).flatMap((a) => a.exp_alerts.map((e) => e.exp_annotations?.runbook_url)));
    });
    expect(urls.length).toBeGreaterThan(30);
    for (const url of urls) {
      expect(url).toMatch(new RegExp(`^${TEST_RUNBOOK_BASE_URL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/runbooks\\.md#[a-z0-9-]+$`));
      expect(new URL(url!).protocol).toBe('https:');
    }
    // And the rendered rules themselves hold no template left over.
    expect(fs.readFileSync(path.join(rendered, 'rules/alerts.yml'), 'utf8')).not.toContain('${');
  });

  it('render-rules.sh refuses a relative or missing base URL, writing nothing', () => {
    for (const base of ['', 'docs', '/srv/ferry/docs', 'https://host/docs#x']) {
      const target = path.join(rendered, `refused-${base.length}`);
      const r = spawnSync('sh', [path.join(PROMETHEUS_DIR, 'render-rules.sh'), path.join(PROMETHEUS_DIR, 'rules'), target], {
        encoding: 'utf8', env: { PATH: process.env.PATH ?? '', FERRY_RUNBOOK_BASE_URL: base },
      });
      expect([base, r.status, r.stderr]).toEqual([base, 2, expect.stringContaining('FERRY_RUNBOOK_BASE_URL must')]);
      expect(fs.existsSync(target)).toBe(false);
    }
  });

  it('have, for every alert, a case where it fires and a case where it stays silent', () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const { doc } of files) {
      for (const t of doc.tests) {
        for (const a of t.alert_rule_test ?? []) (a.exp_alerts.length > 0 ? fires : silent).add(a.alertname);
      }
    }
    for (const name of new Set(alertRules().map((r) => r.alert))) {
      expect([name, fires.has(name), silent.has(name)]).toEqual([name, true, true]);
    }
  });

  it('fail when a threshold is loosened, so they really test the rules', () => {
    // Mutation check: raise the error-ratio threshold and the firing case must fail.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-promtool-'));
    try {
      fs.mkdirSync(path.join(tmp, 'rules'));
      fs.mkdirSync(path.join(tmp, 'tests'));
      fs.copyFileSync(path.join(PROMETHEUS_DIR, 'rules/recording.yml'), path.join(tmp, 'rules/recording.yml'));
      const alerts = fs.readFileSync(path.join(PROMETHEUS_DIR, 'rules/alerts.yml'), 'utf8');
      const mutated = alerts.replace('job:http_request_errors:ratio_rate5m{job="ferry-api"} > 0.05', 'job:http_request_errors:ratio_rate5m{job="ferry-api"} > 0.07');
      expect(mutated).not.toBe(alerts);
      fs.writeFileSync(path.join(tmp, 'rules/alerts.yml'), mutated);
      fs.copyFileSync(path.join(PROMETHEUS_DIR, 'tests/api.test.yml'), path.join(tmp, 'tests/api.test.yml'));
      const r = spawnSync('promtool', ['test', 'rules', path.join(tmp, 'tests/api.test.yml')], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('ApiErrorRatioHigh');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('recording rules', () => {
  it('record request rate, error ratio, latency quantiles and publish success ratio', () => {
    const names = recordingRules().map((r) => r.record);
    expect(names).toEqual(
      expect.arrayContaining([
        'job:http_requests:rate5m',
        'job:http_request_errors:ratio_rate5m',
        'job:http_request_duration_seconds:p95_5m',
        'job_route:http_request_duration_seconds:p50_5m',
        'job_route:http_request_duration_seconds:p99_5m',
        'ferry:publish_success:ratio_rate1h',
      ]),
    );
  });

  it('parse as PromQL (promtool)', () => {
    // check rules parses every expression; an unknown function or bad selector fails it.
    expect(execFileSync('promtool', ['check', 'rules', path.join(PROMETHEUS_DIR, 'rules/recording.yml')], { encoding: 'utf8' })).toContain('SUCCESS');
  });
});

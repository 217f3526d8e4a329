import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './repo-root';

/** The repository root and the monitoring folders the tests read. */
export const ROOT = REPO_ROOT;
export const PROMETHEUS_DIR = path.join(ROOT, 'monitoring/prometheus');
export const ALERTMANAGER_DIR = path.join(ROOT, 'monitoring/alertmanager');
export const GRAFANA_DIR = path.join(ROOT, 'monitoring/grafana');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RecordingRule {
  record: string;
  expr: string;
}

/** Reads a YAML file of the repository, resolving `<<` merge keys as Compose does. */
export function readYaml<T = unknown>(rel: string): T {
  return YAML.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'), { merge: true }) as T;
}

/** A runbook base URL for tests: absolute, with a path, as an operator would set it. */
export const TEST_RUNBOOK_BASE_URL = 'https://git.example.org/ferry/-/blob/main/docs';

/**
 * Renders a rule (or rule test) folder into target with monitoring/prometheus/render-rules.sh, the
 * script the deployment runs, with FERRY_RUNBOOK_BASE_URL = base.
 */
export function renderRules(sourceDir: string, targetDir: string, base = TEST_RUNBOOK_BASE_URL): void {
  execFileSync('sh', [path.join(PROMETHEUS_DIR, 'render-rules.sh'), sourceDir, targetDir], { env: { PATH: process.env.PATH ?? '', FERRY_RUNBOOK_BASE_URL: base } });
}

/** Every alerting rule in rules/alerts.yml, as written (runbook URLs still a template). */
export function alertRules(): AlertRule[] {
  const doc = readYaml<{ groups: { rules: AlertRule[] }[] }>('monitoring/prometheus/rules/alerts.yml');
  return doc.groups.flatMap((g) => g.rules);
}

/** Every alerting rule as Prometheus loads it in production: rendered with base as the runbook base URL. */
export function renderedAlertRules(base = TEST_RUNBOOK_BASE_URL): AlertRule[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rules-'));
  try {
    renderRules(path.join(PROMETHEUS_DIR, 'rules'), dir, base);
    const doc = YAML.parse(fs.readFileSync(path.join(dir, 'alerts.yml'), 'utf8')) as { groups: { rules: AlertRule[] }[] };
    return doc.groups.flatMap((g) => g.rules);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every recording rule in rules/recording.yml. */
export function recordingRules(): RecordingRule[] {
  const doc = readYaml<{ groups: { rules: RecordingRule[] }[] }>('monitoring/prometheus/rules/recording.yml');
  return doc.groups.flatMap((g) => g.rules);
}

export interface DashboardPanel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}
export interface Dashboard {
  uid: string;
  title: string;
  refresh: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; query: unknown; datasource?: { uid: string } }[] };
}

/** The provisioned dashboards by file name (publishing, api, infrastructure). */
export function dashboards(): Record<string, Dashboard> {
  const dir = path.join(GRAFANA_DIR, 'dashboards');
  const out: Record<string, Dashboard> = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    out[f.replace(/\.json$/, '')] = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Dashboard;
  }
  return out;
}

/** A panel query as Prometheus can run it: Grafana's variables replaced by what "All" and a short range mean. */
export function concreteQuery(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', '1h')
    .replaceAll('$instance', '.*');
}

/** GitHub's anchor for a Markdown heading. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of every heading in a Markdown file. */
export function markdownAnchors(rel: string): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => headingAnchor(m[1] ?? '')));
}

/** A child process whose output is kept (for failure messages) and which stop() ends. */
export interface Managed {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running process; its stdout and stderr are collected, not printed. */
export function startProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Managed {
  const proc = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.on('error', (e) => keep(Buffer.from(String(e))));
  return {
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

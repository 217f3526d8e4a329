import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { ALERTMANAGER_DIR, GRAFANA_DIR, ROOT, dashboards, readYaml } from '../support/monitoring';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Renders the Alertmanager template with the given ALERT_* variables into a temporary file. */
function render(env: Record<string, string>): { file: string; config: Record<string, unknown>; text: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-am-'));
  const file = path.join(dir, 'alertmanager.yml');
  const r = run('sh', [path.join(ALERTMANAGER_DIR, 'render-config.sh'), '--render-only'], {
    ALERTMANAGER_TEMPLATE: path.join(ALERTMANAGER_DIR, 'alertmanager.yml.tmpl'),
    ALERTMANAGER_CONFIG: file,
    ...env,
  });
  expect(r.status).toBe(0);
  const text = fs.readFileSync(file, 'utf8');
  return { file, text, config: YAML.parse(text) as Record<string, unknown> };
}

const allReceivers = {
  ALERT_EMAIL_TO: 'ops@example.org',
  ALERT_SMTP_SMARTHOST: 'smtp.example.org:587',
  ALERT_SMTP_USERNAME: 'alerts',
  ALERT_SLACK_CHANNEL: '#ferry-alerts',
  ALERT_PAGERDUTY_ENABLED: 'true',
  ALERT_WEBHOOK_URL: 'https://hooks.example.org/ferry?token=a&b=$1',
};

describe('Alertmanager configuration', () => {
  it('renders to a config amtool accepts, with every receiver configured', () => {
    const { file, text } = render(allReceivers);
    const r = run('amtool', ['check-config', file]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
    // Values are used literally, special characters included.
    expect(text).toContain("url: 'https://hooks.example.org/ferry?token=a&b=$1'");
    const body = text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(body).not.toMatch(/\$\{[A-Z_]+\}|#when/);
  });

  it('renders to a config amtool accepts with no receiver configured', () => {
    const { file, config } = render({});
    expect(run('amtool', ['check-config', file]).status).toBe(0);
    expect(config.receivers).toEqual([{ name: 'critical' }, { name: 'warning' }]);
  });

  it('takes secrets from files, never from the environment', () => {
    const { config } = render(allReceivers);
    const global = config.global as Record<string, unknown>;
    expect(global.smtp_auth_password_file).toBe('/run/secrets/alertmanager_smtp_password');
    expect(global).not.toHaveProperty('smtp_auth_password');
    const receivers = config.receivers as Record<string, Record<string, unknown>[]>[];
    const critical = receivers.find((r) => (r.name as unknown) === 'critical')!;
    const warning = receivers.find((r) => (r.name as unknown) === 'warning')!;
    expect(critical.pagerduty_configs![0]).toMatchObject({ routing_key_file: '/run/secrets/alertmanager_pagerduty_routing_key' });
    expect(warning.slack_configs![0]).toMatchObject({ api_url_file: '/run/secrets/alertmanager_slack_webhook_url', channel: '#ferry-alerts' });
    expect(critical.email_configs![0]).toMatchObject({ to: 'ops@example.org' });
    expect(warning.email_configs![0]).toMatchObject({ to: 'ops@example.org' });
    expect(warning).not.toHaveProperty('pagerduty_configs');
  });

  it('routes by severity, groups by alertname and instance, waits 30 s and repeats every 4 h', () => {
    const { config } = render({});
    expect(config.route).toMatchObject({
      group_by: ['alertname', 'instance'],
      group_wait: '30s',
      repeat_interval: '4h',
      routes: [
        { matchers: ['severity="critical"'], receiver: 'critical' },
        { matchers: ['severity="warning"'], receiver: 'warning' },
      ],
    });
  });

  it('lets a critical alert silence its warning twin and a down alert silence its dependents', () => {
    const { config } = render({});
    expect(config.inhibit_rules).toEqual([
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alert_group', 'instance', 'mountpoint'] },
      { source_matchers: ['kind="down"'], target_matchers: ['kind!="down"'], equal: ['component', 'instance'] },
    ]);
  });

  it('render-config.sh passes shellcheck and prints --help', () => {
    expect(run('shellcheck', ['monitoring/alertmanager/render-config.sh']).status).toBe(0);
    const r = run('sh', ['monitoring/alertmanager/render-config.sh', '--help']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('ALERT_WEBHOOK_URL');
  });
});

describe('Grafana provisioning', () => {
  const ds = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>('monitoring/grafana/provisioning/datasources/prometheus.yml');
  const uid = ds.datasources[0]!.uid;
  const boards = dashboards();

  it('provisions one Prometheus datasource and the dashboards folder', () => {
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    const prov = readYaml<{ providers: { options: { path: string } }[] }>('monitoring/grafana/provisioning/dashboards/ferry.yml');
    expect(prov.providers[0]!.options.path).toBe('/etc/grafana/dashboards');
  });

  it('has the Publishing, API and Infrastructure dashboards, refreshing every 10 s and templated by instance', () => {
    expect(Object.keys(boards).sort()).toEqual(['api', 'infrastructure', 'publishing']);
    for (const d of Object.values(boards)) {
      expect([d.uid, d.refresh]).toEqual([d.uid, '10s']);
      const v = d.templating.list.find((t) => t.name === 'instance');
      expect([d.uid, v?.datasource?.uid]).toEqual([d.uid, uid]);
    }
  });

  it('gives every panel queries with an expression against the provisioned datasource', () => {
    for (const d of Object.values(boards)) {
      const ids = new Set<number>();
      for (const p of d.panels) {
        expect([d.uid, p.title, p.datasource?.uid]).toEqual([d.uid, p.title, uid]);
        expect([d.uid, p.title, (p.targets ?? []).length > 0]).toEqual([d.uid, p.title, true]);
        for (const t of p.targets ?? []) {
          expect([p.title, t.expr.trim().length > 0, t.datasource?.uid]).toEqual([p.title, true, uid]);
        }
        expect(ids.has(p.id)).toBe(false);
        ids.add(p.id);
      }
    }
  });

  it('shows the panels the issue lists', () => {
    const titles = (name: string) => boards[name]!.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const w of ['products by status', 'publishes per minute', 'success rate', 'failures by reason', 'queue depth', 'publish duration p50 / p95 / p99', 'bytes published per second', 'oldest staged product']) {
      expect(titles('publishing')).toContain(w);
    }
    for (const w of ['request rate', 'latency p50', 'latency p95', 'latency p99', 'error ratio', 'status codes', '429']) {
      expect(titles('api')).toContain(w);
    }
    for (const w of ['cpu', 'memory', 'disk free per volume', 'container cpu', 'container memory', 'container restarts', 'postgres connections', 'postgres cache hit', 'redis memory']) {
      expect(titles('infrastructure')).toContain(w);
    }
  });

  it('keeps anonymous access and sign-up off and reads the admin password from a secret', () => {
    const compose = readYaml<{ services: Record<string, { environment: Record<string, string> }> }>('docker-compose.monitoring.yml');
    const env = compose.services.grafana!.environment;
    expect(env).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana_admin_password',
    });
    expect(env).not.toHaveProperty('GF_SECURITY_ADMIN_PASSWORD');
    expect(fs.existsSync(path.join(GRAFANA_DIR, 'provisioning'))).toBe(true);
  });
});

interface ComposeService {
  profiles?: string[];
  image: string;
  restart?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  pids_limit?: number;
  logging?: { driver: string; options: Record<string, string> };
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  networks?: string[];
  volumes?: string[];
  deploy?: { resources?: { limits?: Record<string, unknown>; reservations?: Record<string, unknown> } };
}

describe('docker-compose.monitoring.yml', () => {
  const compose = readYaml<{ services: Record<string, ComposeService>; networks: Record<string, unknown>; volumes: Record<string, unknown> }>('docker-compose.monitoring.yml');
  const services = compose.services;

  it('is a valid Compose file (docker compose config)', () => {
    const r = run('docker', ['compose', '-f', 'docker-compose.monitoring.yml', '--profile', 'monitoring', 'config', '-q']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('validates against the Compose specification schema bundled with dclint', () => {
    const file = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const { $schema: _draft, ...schema } = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('defines the contract services, all under the monitoring profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alertmanager', 'cadvisor', 'grafana', 'nginx-exporter', 'node-exporter', 'postgres-exporter', 'prometheus', 'redis-exporter'],
    );
    for (const [name, s] of Object.entries(services)) expect([name, s.profiles]).toEqual([name, ['monitoring']]);
  });

  it('hardens every service like the main stack', () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, s.restart, s.read_only, s.cap_drop, s.security_opt, s.pids_limit]).toEqual([
        name, 'unless-stopped', true, ['ALL'], ['no-new-privileges:true'], 200,
      ]);
      expect([name, s.logging]).toEqual([name, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } }]);
      expect([name, Boolean(s.deploy?.resources?.limits?.cpus && s.deploy.resources.limits.memory && s.deploy.resources.reservations)]).toEqual([name, true]);
      expect(s.image).toMatch(/:[\w.-]+$/);
    }
  });

  it('health-checks every service with a tool its image has, except the scratch-built nginx exporter', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'nginx-exporter') {
        expect(s.healthcheck).toEqual({ disable: true });
        continue;
      }
      const tool = s.healthcheck?.test?.[1];
      expect([name, tool]).toEqual([name, name === 'grafana' ? 'curl' : 'wget']);
    }
  });

  it('publishes admin interfaces on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) expect([name, p]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
    }
    expect(services.prometheus!.ports).toHaveLength(1);
    expect(services.grafana!.ports).toHaveLength(1);
    expect(services.alertmanager!.ports).toHaveLength(1);
  });

  it('keeps Alertmanager data on a volume and gives it a network that can reach receivers', () => {
    expect(services.alertmanager!.volumes).toContain('alertmanager-data:/alertmanager');
    expect(services.alertmanager!.networks).toEqual(expect.arrayContaining(['backend', 'monitoring']));
    expect(compose.networks.backend).toEqual({ internal: true });
    expect(compose.networks.monitoring).not.toHaveProperty('internal');
  });

  it('mounts the host read-only into node-exporter and cAdvisor', () => {
    for (const name of ['node-exporter', 'cadvisor']) {
      const hostMounts = (services[name]!.volumes ?? []).filter((v) => v.startsWith('/'));
      expect(hostMounts.length).toBeGreaterThan(0);
      for (const v of hostMounts) expect([name, v]).toEqual([name, expect.stringMatching(/:ro(,rslave)?$/)]);
    }
  });
});

describe('deploy/monitoring.sh', () => {
  it('passes shellcheck', () => {
    const r = run('shellcheck', ['deploy/monitoring.sh']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('prints its usage with --help and refuses an unknown command', () => {
    const help = run('bash', ['deploy/monitoring.sh', '--help']);
    expect(help.status).toBe(0);
    for (const c of ['start', 'stop', 'status', 'logs']) expect(help.out).toContain(c);
    expect(run('bash', ['deploy/monitoring.sh', 'bogus']).status).toBe(2);
  });

  it('applies the Grafana admin password from the secret file on start', () => {
    const text = fs.readFileSync(path.join(ROOT, 'deploy/monitoring.sh'), 'utf8');
    expect(text).toContain('grafana cli admin reset-admin-password --password-from-stdin');
  });

  it('writes the TLS certificate expiry as a textfile metric Prometheus can parse', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cert-'));
    try {
      const cert = path.join(dir, 'fullchain.pem');
      expect(run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', cert, '-days', '10', '-subj', '/CN=ferry.test']).status).toBe(0);
      const envFile = path.join(dir, 'env');
      fs.writeFileSync(envFile, `NODE_EXPORTER_TEXTFILE_DIR=${dir}/textfile\nTLS_CERTIFICATE_FILE="${cert}"\n`);
      const r = run('bash', ['deploy/monitoring.sh', 'cert-metrics'], { FERRY_ENV_FILE: envFile });
      expect(r.status).toBe(0);
      const prom = fs.readFileSync(path.join(dir, 'textfile/ferry_tls.prom'), 'utf8');
      const m = /^ferry_tls_certificate_expiry_timestamp_seconds\{file="fullchain\.pem"\} (\d+)$/m.exec(prom);
      const days = (Number(m?.[1]) - Date.now() / 1000) / 86400;
      expect(days).toBeGreaterThan(9);
      expect(days).toBeLessThan(11);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: prom, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

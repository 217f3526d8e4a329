import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { checkComposePolicy, type PolicyRule } from '../support/compose-policy';
import { envRules } from '../../services/core/config/env-rules';
import { interpolate, interpolatedNames, loadCompose, readEnvFile, REPO_ROOT, serviceEnv, type ComposeFile } from '../support/compose';

const PROD = path.join(REPO_ROOT, 'docker-compose.prod.yml');
const EXAMPLE = path.join(REPO_ROOT, '.env.production.example');
const env = readEnvFile(EXAMPLE);
const SCHEMA = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
/** The Compose specification schema dclint bundles (draft-07, Ajv's default: its $schema URL dropped). */
function compileComposeSchema() {
  const { $schema: _draft, ...schema } = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'));
  return new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
}
const clone = (d: ComposeFile): ComposeFile => structuredClone(d);

describe('docker-compose.prod.yml', () => {
  const doc = loadCompose(PROD);

  it('validates against the Compose specification schema bundled with dclint', () => {
    const validate = compileComposeSchema();
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('refuses a compose file the schema rejects (the schema check can fail)', () => {
    const validate = compileComposeSchema();
    const bad = clone(doc);
    (bad.services.api as Record<string, unknown>).restart_policy = 'always';
    expect(validate(bad)).toBe(false);
  });

  it('passes dclint with no errors (YAML, schema and its security rules)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DCLinter } = require('dclint') as typeof import('dclint');
    // Style rules are off; no-unbound-port-interfaces cannot resolve ${FERRY_BIND_ADDRESS}, and the
    // policy checker below validates the published ports instead.
    const linter = new DCLinter({
      rules: { 'no-unbound-port-interfaces': 0, 'no-build-and-image': 0, 'require-project-name-field': 0, 'service-keys-order': 0, 'services-alphabetical-order': 0, 'service-dependencies-alphabetical-order': 0, 'service-ports-alphabetical-order': 0, 'top-level-properties-order': 0, 'require-quotes-in-ports': 0 },
      quiet: true,
      debug: false,
      exclude: [],
    } as never);
    const [result] = linter.lintFiles([PROD], false);
    const errors = result!.messages.filter((m) => m.type === 'error');
    expect(errors).toEqual([]);
  });

  it('is accepted by docker-compose v1 config as a second opinion', () => {
    // v1 predates the top-level `name`; everything else it parses as Compose v2 does.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-compose-v1-'));
    try {
      fs.writeFileSync(path.join(dir, 'docker-compose.yml'), fs.readFileSync(PROD, 'utf8').replace(/^name: .*\n/m, ''));
      const r = spawnSync('docker-compose', ['-f', path.join(dir, 'docker-compose.yml'), '--env-file', EXAMPLE, 'config', '-q'], { encoding: 'utf8' });
      expect(r.error).toBeUndefined(); // docker-compose (v1) is on PATH: .ci/prepare.sh installs it
      // v1's schema predates deploy.resources.limits.pids, which Compose 2.26 requires next to pids_limit.
      const complaints = r.stderr.split('\n').filter((l) => l.trim() && !/^The Compose file .* is invalid because:$/.test(l) && !/limits value 'pids' does not match/.test(l));
      expect(complaints).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('meets the hardening policy in every service', () => {
    expect(checkComposePolicy(doc, { env })).toEqual([]);
  });

  it('documents every interpolated variable in .env.production.example', () => {
    const names = interpolatedNames(fs.readFileSync(PROD, 'utf8'));
    expect(names.filter((n) => !(n in env))).toEqual([]);
    // The monitoring profile's variables are listed too (commented: their defaults apply).
    const example = fs.readFileSync(EXAMPLE, 'utf8');
    const monitoring = path.join(REPO_ROOT, 'docker-compose.monitoring.yml');
    const monitoringNames = fs.existsSync(monitoring) ? interpolatedNames(fs.readFileSync(monitoring, 'utf8')) : [];
    expect(monitoringNames.filter((n) => !new RegExp(`^(# )?${n}=`, 'm').test(example))).toEqual([]);
  });

  it('keeps the backend network internal and only nginx on the public side', () => {
    expect(doc.networks?.backend).toMatchObject({ internal: true });
    const onFrontend = Object.entries(doc.services).filter(([, s]) => ((s.networks as string[]) ?? []).includes('frontend')).map(([n]) => n);
    expect(onFrontend).toEqual(['nginx']);
    const publishing = Object.entries(doc.services).filter(([, s]) => s.ports).map(([n]) => n);
    expect(publishing).toEqual(['nginx']);
    expect(doc.services.nginx!.ports).toEqual(['${FERRY_BIND_ADDRESS:-0.0.0.0}:${FERRY_HTTP_PORT:-80}:8080', '${FERRY_BIND_ADDRESS:-0.0.0.0}:${FERRY_HTTPS_PORT:-443}:8443']);
  });

  it('sets no fixed service variable to the value the config schema defaults it to', () => {
    const { variables } = envRules();
    const ferryServices = Object.entries(doc.services).filter(([, s]) => s.image === doc.services.api!.image);
    expect(ferryServices.map(([n]) => n)).toEqual(expect.arrayContaining(['migrate', 'api', 'worker']));
    const repeats: string[] = [];
    for (const [service, svc] of ferryServices) {
      for (const [name, value] of Object.entries((svc.environment ?? {}) as Record<string, unknown>)) {
        // Interpolated values come from the operator's env file; only fixed ones can merely repeat.
        if (typeof value !== 'string' || value.includes('$')) continue;
        const rule = variables[name];
        if (rule?.default !== undefined && String(rule.default) === value) repeats.push(`${service}: ${name}=${value}`);
      }
    }
    expect(repeats).toEqual([]);
    expect(serviceEnv(doc.services.api!, env).NODE_ENV).toBeUndefined();
  });

  it('falls back to no value the config schema already defaults to: those variables pass through by name', () => {
    const { variables } = envRules();
    const text = fs.readFileSync(PROD, 'utf8');
    const repeated = [...text.matchAll(/^\s+([A-Z][A-Z0-9_]*): "?\$\{([A-Z][A-Z0-9_]*):?-([^}]*)\}"?$/gm)]
      .filter(([, name, source, fallback]) => name === source && variables[name!]?.default !== undefined && String(variables[name!]!.default) === fallback)
      .map(([, name, , fallback]) => `${name}=${fallback}`);
    expect(repeated).toEqual([]);
    // Unset in the operator's file, a passed-through variable never reaches the service; set, it does.
    const api = doc.services.api!;
    expect((api.environment as Record<string, unknown>).LOG_LEVEL).toBeNull();
    expect(serviceEnv(api, {}).LOG_LEVEL).toBeUndefined();
    expect(serviceEnv(api, { LOG_LEVEL: 'warn' }).LOG_LEVEL).toBe('warn');
    // Each name passed through is one the config schema reads, and the example file documents it.
    const passed = Object.entries(api.environment as Record<string, unknown>).filter(([, v]) => v === null).map(([k]) => k);
    expect(passed.length).toBeGreaterThan(10);
    expect(passed.filter((n) => !(n in variables))).toEqual([]);
    expect(passed.filter((n) => !new RegExp(`^(# )?${n}=`, 'm').test(fs.readFileSync(EXAMPLE, 'utf8')))).toEqual([]);
    // The monitoring profile passes its ALERT_* settings through the same way; render-config.sh holds their defaults.
    const monitoring = loadCompose(path.join(REPO_ROOT, 'docker-compose.monitoring.yml'));
    const alerts = Object.entries(monitoring.services.alertmanager!.environment as Record<string, unknown>).filter(([, v]) => v === null).map(([k]) => k);
    expect(alerts).toEqual(expect.arrayContaining(['ALERT_EMAIL_TO', 'ALERT_EMAIL_FROM', 'ALERT_WEBHOOK_URL']));
    expect(alerts.filter((n) => !new RegExp(`^(# )?${n}=`, 'm').test(fs.readFileSync(EXAMPLE, 'utf8')))).toEqual([]);
  });

  it('runs migrations once before api and worker start, and enforces the data-root marker', () => {
    expect(doc.services.migrate!.command).toEqual(['node', 'dist/ops/migrate.js']);
    for (const name of ['api', 'worker']) {
      const svc = doc.services[name]!;
      expect(svc.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(serviceEnv(svc, env).REQUIRE_DATA_ROOT_MARKER).toBe('true');
      expect(svc.container_name).toBeUndefined();
      expect(svc.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^\$\{FERRY_STAGE_DIR:\?[^}]*\}:\/data\/stage/), expect.stringMatching(/^\$\{FERRY_PRODUCTS_DIR:\?[^}]*\}:\/data\/products/)]));
    }
    expect(doc.services.api!.healthcheck!.test).toEqual(['CMD', 'node', 'dist/ops/healthcheck.js', 'api']);
    expect(doc.services.worker!.healthcheck!.test).toEqual(['CMD', 'node', 'dist/ops/healthcheck.js', 'worker']);
  });

  it('passes secrets as Docker secrets from ./secrets, read through *_FILE variables', () => {
    expect(doc.secrets).toMatchObject({
      postgres_password: { file: './secrets/postgres_password' },
      redis_password: { file: './secrets/redis_password' },
      ferry_admin_token: { file: './secrets/ferry_admin_token' },
    });
    const apiEnv = serviceEnv(doc.services.api!, env);
    expect(apiEnv).toMatchObject({
      DATABASE_PASSWORD_FILE: '/run/secrets/postgres_password',
      REDIS_PASSWORD_FILE: '/run/secrets/redis_password',
      FERRY_ADMIN_TOKEN_FILE: '/run/secrets/ferry_admin_token',
    });
    expect(apiEnv.DATABASE_URL).toBe('postgres://ferry@postgres:5432/ferry');
    expect(serviceEnv(doc.services.postgres!, env).POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
  });

  it('runs postgres as its own uid with data checksums and the mounted tuning file', () => {
    const pg = doc.services.postgres!;
    expect(pg.user).toBe('999:999');
    expect(pg.image).toMatch(/^postgres:\d+(\.\d+)?-bookworm$/);
    expect(serviceEnv(pg, env).POSTGRES_INITDB_ARGS).toContain('--data-checksums');
    expect(pg.command).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf']);
    expect(pg.volumes).toEqual(expect.arrayContaining(['postgres-data:/var/lib/postgresql/data', './deploy/postgres/postgresql.conf:/etc/postgresql/postgresql.conf:ro']));
    expect(pg.tmpfs).toEqual(expect.arrayContaining([expect.stringMatching(/^\/var\/run\/postgresql:size=/)]));
  });

  it('runs redis with the password read from its secret file, append-only and noeviction', () => {
    const redis = doc.services.redis!;
    expect(redis.user).toBe('999:999');
    const command = (redis.command as string[]).join(' ');
    expect(command).toContain('--requirepass "$$(cat "$${REDIS_PASSWORD_FILE}")"');
    expect(serviceEnv(redis, env).REDIS_PASSWORD_FILE).toBe('/run/secrets/redis_password');
    const conf = fs.readFileSync(path.join(REPO_ROOT, 'deploy/redis/redis.conf'), 'utf8');
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(command).toContain('--maxmemory');
  });

  it('puts every path nginx writes (pid, temp files, rendered templates) on a tmpfs', () => {
    const nginx = doc.services.nginx!;
    expect(nginx.user).toBe('101:101');
    const targets = (nginx.tmpfs as string[]).map((t) => t.split(':')[0]!);
    const conf = fs.readFileSync(path.join(REPO_ROOT, 'nginx/nginx.conf'), 'utf8').split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    const written = [
      /^pid (\S+);/m.exec(conf)![1]!,
      ...[...conf.matchAll(/_temp_path (\S+);/g)].map((m) => m[1]!),
      `${serviceEnv(nginx, env).NGINX_ENVSUBST_OUTPUT_DIR ?? '/etc/nginx/conf.d'}/ferry.conf`,
    ];
    expect(written.length).toBeGreaterThanOrEqual(7);
    for (const p of written) expect({ p, onTmpfs: targets.some((t) => p.startsWith(`${t}/`)) }).toEqual({ p, onTmpfs: true });
    expect(conf).toContain(`include ${serviceEnv(nginx, env).NGINX_ENVSUBST_OUTPUT_DIR}/*.conf;`);
  });

  it('gives every read-only service sized tmpfs mounts', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      const tmpfs = (svc.tmpfs as string[] | undefined) ?? [];
      expect({ name, tmpfs: tmpfs.length > 0 && tmpfs.every((t) => /:size=\d+[kmg]/i.test(t)) }).toEqual({ name, tmpfs: true });
    }
  });

  it('keeps postgres, redis and backups on named volumes', () => {
    expect(Object.keys(doc.volumes ?? {}).sort()).toEqual(['backups', 'postgres-data', 'redis-data']);
  });

  it('gives api and worker a stop_grace_period longer than the largest drain validate-env allows', () => {
    for (const name of ['api', 'worker']) expect(doc.services[name]!.stop_grace_period).toBe('40s');
    const out = execFileSync(process.execPath, ['-e', `import('${path.join(REPO_ROOT, 'deploy/validate-env.mjs')}').then(m => console.log(m.validateEnv({SHUTDOWN_GRACE_SECONDS: '36'}, {}).filter(p => p.startsWith('SHUTDOWN')).length))`], { encoding: 'utf8' });
    expect(out.trim()).toBe('1');
  });

  it('interpolates with the example env file without a missing required variable', () => {
    const text = fs.readFileSync(PROD, 'utf8');
    expect(() => interpolate(text, { ...env, FERRY_DOMAIN: 'ferry.test', FERRY_PUBLIC_URL: 'https://ferry.test' })).not.toThrow();
  });
});

describe('the compose policy checker', () => {
  const good = loadCompose(PROD);
  // Each case breaks one rule in one service; the checker must name exactly that rule.
  const cases: [PolicyRule, string, (s: Record<string, unknown>) => void][] = [
    ['healthcheck', 'api', (s) => delete s.healthcheck],
    ['healthcheck', 'redis', (s) => delete (s.healthcheck as Record<string, unknown>).start_period],
    ['resources', 'worker', (s) => delete (s.deploy as { resources: { limits: Record<string, unknown> } }).resources.limits.memory],
    ['resources', 'nginx', (s) => delete (s.deploy as { resources: { limits: Record<string, unknown> } }).resources.limits.cpus],
    ['pids-limit', 'postgres', (s) => {
      delete s.pids_limit;
      delete (s.deploy as { resources: { limits: Record<string, unknown> } }).resources.limits.pids;
    }],
    ['restart', 'api', (s) => (s.restart = 'no')],
    ['restart', 'migrate', (s) => (s.restart = 'unless-stopped')],
    ['no-new-privileges', 'redis', (s) => (s.security_opt = [])],
    ['cap-drop-all', 'nginx', (s) => (s.cap_drop = ['NET_RAW'])],
    ['cap-add', 'nginx', (s) => (s.cap_add = ['NET_BIND_SERVICE'])],
    ['read-only', 'api', (s) => (s.read_only = 'true')],
    ['read-only', 'worker', (s) => delete s.read_only],
    ['log-rotation', 'postgres', (s) => (s.logging = { driver: 'json-file' })],
    ['privileged', 'worker', (s) => (s.privileged = true)],
    ['host-namespace', 'api', (s) => (s.network_mode = 'host')],
    ['host-namespace', 'worker', (s) => (s.pid = 'host')],
    ['host-namespace', 'redis', (s) => (s.ipc = 'host')],
    ['docker-socket', 'worker', (s) => (s.volumes as string[]).push('/var/run/docker.sock:/var/run/docker.sock')],
    ['sensitive-host-path', 'api', (s) => (s.volumes as string[]).push('/etc:/host-etc:ro')],
    ['published-port', 'postgres', (s) => (s.ports = ['5432:5432'])],
    ['published-port', 'nginx', (s) => (s.ports as string[]).push('8081:8081')],
    ['secret-literal', 'postgres', (s) => ((s.environment as Record<string, string>).POSTGRES_PASSWORD = 'hunter2hunter2hunter2')],
    ['secret-literal', 'api', (s) => ((s.environment as Record<string, string>).DATABASE_URL = 'postgres://ferry:hunter2@postgres:5432/ferry')],
    ['secret-literal', 'redis', (s) => (s.command = ['redis-server', '--requirepass', 'hunter2hunter2'])],
    ['depends-on-condition', 'nginx', (s) => (s.depends_on = ['api'])],
    ['image-tag', 'redis', (s) => (s.image = 'redis:latest')],
    ['container-name', 'worker', (s) => (s.container_name = 'ferry-worker')],
    ['stop-grace-period', 'api', (s) => (s.stop_grace_period = '10s')],
  ];

  it.each(cases)('reports %s when %s breaks it', (rule, service, mutate) => {
    const doc = clone(good);
    mutate(doc.services[service]!);
    const found = checkComposePolicy(doc, { env });
    expect(found.map((v) => `${v.service}:${v.rule}`)).toContain(`${service}:${rule}`);
  });

  it('accepts a capability a caller records as needed', () => {
    const doc = clone(good);
    doc.services.nginx!.cap_add = ['NET_BIND_SERVICE'];
    expect(checkComposePolicy(doc, { env, capAdd: { nginx: ['NET_BIND_SERVICE'] } })).toEqual([]);
  });
});

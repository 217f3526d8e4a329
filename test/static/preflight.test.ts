import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readEnvFile, REPO_ROOT } from '../support/compose';

const SCRIPT = path.join(REPO_ROOT, 'deploy/preflight.sh');
const EXAMPLE = path.join(REPO_ROOT, '.env.production.example');

// A docker CLI stand-in: answers what preflight asks from FAKE_* variables.
const FAKE_DOCKER = `#!/bin/sh
case "$*" in
  "version --format {{.Server.APIVersion}}") [ -n "\${FAKE_DOCKER_API:-}" ] || exit 1; echo "$FAKE_DOCKER_API" ;;
  "compose version --short") [ -n "\${FAKE_COMPOSE:-}" ] || exit 1; echo "$FAKE_COMPOSE" ;;
  "info "*) exit 1 ;;
  compose*" ps "*) echo "\${FAKE_RUNNING_NGINX:-}" ;;
  *) exit 0 ;;
esac
`;

let base: string;
let fakeBin: string;
let noDockerBin: string;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-preflight-'));
  fakeBin = path.join(base, 'fake-bin');
  fs.mkdirSync(fakeBin);
  fs.writeFileSync(path.join(fakeBin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
  // A PATH with every usual tool but no docker at all.
  noDockerBin = path.join(base, 'no-docker-bin');
  fs.mkdirSync(noDockerBin);
  for (const d of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin', path.dirname(process.execPath)]) {
    if (!fs.existsSync(d)) continue;
    for (const name of fs.readdirSync(d)) {
      const target = path.join(noDockerBin, name);
      if (name !== 'docker' && !fs.existsSync(target)) fs.symlinkSync(path.join(d, name), target);
    }
  }
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

interface Setup {
  dir: string;
  env: Record<string, string>;
}

let setup: Setup;
beforeEach(() => {
  const dir = fs.mkdtempSync(path.join(base, 'case-'));
  const stage = path.join(dir, 'stage');
  const products = path.join(dir, 'products');
  for (const d of [stage, products]) {
    fs.mkdirSync(d, { mode: 0o750 });
    fs.chmodSync(d, 0o750);
    fs.chownSync(d, 1000, 1000);
  }
  fs.mkdirSync(path.join(dir, 'secrets'));
  for (const [name, len] of [['postgres_password', 40], ['redis_password', 40], ['ferry_admin_token', 48]] as const) {
    fs.writeFileSync(path.join(dir, 'secrets', name), 'Xy7'.repeat(len).slice(0, len));
  }
  execFileSync('sh', [path.join(REPO_ROOT, 'deploy/generate-cert.sh'), '--domain', 'ferry.test', '--cert', path.join(dir, 'certs/fullchain.pem'), '--key', path.join(dir, 'certs/privkey.pem')]);
  const env = {
    ...readEnvFile(EXAMPLE),
    FERRY_DOMAIN: 'ferry.test',
    FERRY_PUBLIC_URL: 'https://ferry.test',
    FERRY_STAGE_DIR: stage,
    FERRY_PRODUCTS_DIR: products,
    FERRY_HTTP_PORT: '1',
    FERRY_HTTPS_PORT: '2',
    PREFLIGHT_MIN_STAGE_FREE_GB: '0',
    PREFLIGHT_MIN_PRODUCTS_FREE_GB: '0',
    PREFLIGHT_MIN_STATE_FREE_GB: '0',
    PREFLIGHT_DOCKER_ROOT: dir,
    TLS_CERTIFICATE_FILE: path.join(dir, 'certs/fullchain.pem'),
    TLS_KEY_FILE: path.join(dir, 'certs/privkey.pem'),
  };
  setup = { dir, env };
});

function writeEnv(changes: Record<string, string> = {}): void {
  const vars = { ...setup.env, ...changes };
  fs.writeFileSync(path.join(setup.dir, 'env'), Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
}

function run(opts: { fake?: Record<string, string>; path?: string } = {}) {
  const fake = { FAKE_DOCKER_API: '1.47', FAKE_COMPOSE: '2.29.7', ...opts.fake };
  const r = spawnSync('sh', [SCRIPT, '--env-file', path.join(setup.dir, 'env'), '--secrets-dir', path.join(setup.dir, 'secrets')], {
    encoding: 'utf8',
    env: { PATH: opts.path ?? `${fakeBin}:${path.dirname(process.execPath)}:${process.env.PATH}`, ...fake },
  });
  return { status: r.status, failed: r.stderr.split('\n').filter((l) => l.startsWith('✗ ')), stderr: r.stderr };
}

async function withListeningPort<T>(fn: (port: number) => T): Promise<T> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return fn((server.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('deploy/preflight.sh', () => {
  it('passes on a ready host', () => {
    writeEnv();
    const r = run();
    expect(r.failed).toEqual([]);
    expect(r.stderr).toMatch(/all checks passed/);
    expect(r.status).toBe(0);
  });

  it('reports a host without docker', () => {
    writeEnv();
    const r = run({ path: noDockerBin });
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ docker: not installed/));
  });

  it.each([
    ['an engine that does not answer', { FAKE_DOCKER_API: '' }, /^✗ docker: the engine does not answer/],
    ['an engine API older than 1.41', { FAKE_DOCKER_API: '1.40' }, /^✗ docker: engine API 1.40 is older than 1.41$/],
    ['a missing Compose v2 plugin', { FAKE_COMPOSE: '' }, /^✗ docker compose: the Compose v2 plugin is missing$/],
    ['a Compose older than 2.20', { FAKE_COMPOSE: 'v2.9.0' }, /^✗ docker compose: version 2.9.0 is older than 2.20.0$/],
  ])('reports %s', (_what, fake, expected) => {
    writeEnv();
    const r = run({ fake });
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(expected));
  });

  it('reports an invalid env with validate-env problems', () => {
    writeEnv({ LOG_LEVEL: 'debug' });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toEqual(expect.arrayContaining([expect.stringMatching(/^✗ LOG_LEVEL: "debug"/), expect.stringMatching(/^✗ environment: fix the problems/)]));
  });

  it('reports a missing data directory', () => {
    writeEnv({ FERRY_STAGE_DIR: path.join(setup.dir, 'nowhere') });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ FERRY_STAGE_DIR: .*nowhere does not exist/));
  });

  it('reports a data directory the services uid does not own', () => {
    fs.chownSync(setup.env.FERRY_PRODUCTS_DIR!, 0, 0);
    writeEnv();
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ FERRY_PRODUCTS_DIR: .* is owned by uid 0, the services run as uid 1000/));
  });

  it('reports a data directory its owner cannot write', () => {
    fs.chmodSync(setup.env.FERRY_STAGE_DIR!, 0o550);
    writeEnv();
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ FERRY_STAGE_DIR: .* has mode 550, its owner needs rwx/));
  });

  it('reports a world-writable data directory', () => {
    fs.chmodSync(setup.env.FERRY_PRODUCTS_DIR!, 0o777);
    writeEnv();
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ FERRY_PRODUCTS_DIR: .* is world-writable \(mode 777/));
  });

  it.each([
    ['stage', 'PREFLIGHT_MIN_STAGE_FREE_GB', /^✗ FERRY_STAGE_DIR: .* GB free, at least 1000000 GB needed \(PREFLIGHT_MIN_STAGE_FREE_GB\)$/],
    ['products', 'PREFLIGHT_MIN_PRODUCTS_FREE_GB', /^✗ FERRY_PRODUCTS_DIR: .* GB free, at least 1000000 GB needed \(PREFLIGHT_MIN_PRODUCTS_FREE_GB\)$/],
    ['state', 'PREFLIGHT_MIN_STATE_FREE_GB', /^✗ Docker data \(.*\): .* GB free, at least 1000000 GB needed \(PREFLIGHT_MIN_STATE_FREE_GB\)$/],
  ])('reports too little free space for %s', (_what, knob, expected) => {
    writeEnv({ [knob]: '1000000' });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(expected));
  });

  it('reports a published port already in use', async () => {
    await withListeningPort((port) => {
      writeEnv({ FERRY_HTTPS_PORT: String(port) });
      const r = run();
      expect(r.status).toBe(1);
      expect(r.failed).toContainEqual(`✗ FERRY_HTTPS_PORT: port ${port} is already in use (ss -ltnp 'sport = :${port}')`);
    });
  });

  it('accepts ports held by the stack\'s own running nginx', async () => {
    await withListeningPort((port) => {
      writeEnv({ FERRY_HTTPS_PORT: String(port) });
      const r = run({ fake: { FAKE_RUNNING_NGINX: '0123456789ab' } });
      expect(r.failed).toEqual([]);
      expect(r.status).toBe(0);
    });
  });

  it('reports a missing certificate', () => {
    writeEnv({ TLS_CERTIFICATE_FILE: path.join(setup.dir, 'certs/none.pem') });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ TLS: .*none\.pem or .* is missing/));
  });

  it('reports a certificate that expires within 14 days', () => {
    execFileSync('sh', [path.join(REPO_ROOT, 'deploy/generate-cert.sh'), '--domain', 'ferry.test', '--days', '7', '--force', '--cert', setup.env.TLS_CERTIFICATE_FILE!, '--key', setup.env.TLS_KEY_FILE!]);
    writeEnv();
    const r = run();
    expect(r.status).toBe(1);
    expect(r.failed).toContainEqual(expect.stringMatching(/^✗ TLS: .* expires within 14 days/));
  });

  it('lists every failed check, not only the first', () => {
    fs.chmodSync(setup.env.FERRY_PRODUCTS_DIR!, 0o777);
    writeEnv({ LOG_LEVEL: 'debug', PREFLIGHT_MIN_STAGE_FREE_GB: '1000000' });
    const r = run({ fake: { FAKE_COMPOSE: '' } });
    expect(r.status).toBe(1);
    expect(r.failed.length).toBeGreaterThanOrEqual(5);
    expect(r.stderr).toMatch(/preflight.sh: \d+ check\(s\) failed/);
  });
});

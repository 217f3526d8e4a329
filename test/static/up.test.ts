import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/compose';
import { freePort } from '../support/free-port';

// deploy/up.sh in a copy of the deployment files, with a docker CLI stand-in that records what it
// is asked to do (there is no engine here; the container lab boots the stack for real).
const FAKE_DOCKER = `#!/bin/sh
case "$*" in
  "version --format {{.Server.APIVersion}}") echo 1.47 ;;
  "compose version --short") echo 2.29.7 ;;
  "info "*) exit 1 ;;
  compose*" ps "*) ;;
  *) printf '%s\\n' "$*" >>"$FAKE_DOCKER_LOG" ;;
esac
`;

let sandbox: string;
let bin: string;
let data: string;

beforeEach(() => {
  sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-up-'));
  for (const f of ['deploy', 'docker-compose.prod.yml', '.env.production.example', 'services/Dockerfile', 'nginx']) {
    fs.cpSync(path.join(REPO_ROOT, f), path.join(sandbox, f), { recursive: true });
  }
  bin = path.join(sandbox, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
  data = path.join(sandbox, 'data');
  for (const d of ['stage', 'products']) {
    fs.mkdirSync(path.join(data, d), { recursive: true, mode: 0o750 });
    fs.chmodSync(path.join(data, d), 0o750);
    fs.chownSync(path.join(data, d), 1000, 1000);
  }
});
afterEach(() => fs.rmSync(sandbox, { recursive: true, force: true }));

async function up(extra: Record<string, string> = {}) {
  const env = {
    PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH}`,
    FAKE_DOCKER_LOG: path.join(sandbox, 'docker.log'),
    FERRY_DOMAIN: 'ferry.test',
    FERRY_STAGE_DIR: path.join(data, 'stage'),
    FERRY_PRODUCTS_DIR: path.join(data, 'products'),
    FERRY_HTTP_PORT: String(await freePort()),
    FERRY_HTTPS_PORT: '18443',
    PREFLIGHT_MIN_STAGE_FREE_GB: '0',
    PREFLIGHT_MIN_PRODUCTS_FREE_GB: '0',
    PREFLIGHT_MIN_STATE_FREE_GB: '0',
    PREFLIGHT_DOCKER_ROOT: sandbox,
    ...extra,
  };
  const r = spawnSync('sh', [path.join(sandbox, 'deploy/up.sh')], { cwd: os.tmpdir(), encoding: 'utf8', env });
  const log = fs.existsSync(env.FAKE_DOCKER_LOG) ? fs.readFileSync(env.FAKE_DOCKER_LOG, 'utf8').trim().split('\n') : [];
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, docker: log };
}

describe('deploy/up.sh', () => {
  it('on a first run creates the env file, secrets, certificate and markers, then starts the stack and waits', async () => {
    const r = await up();
    expect(r.stderr).toMatch(/all checks passed/);
    expect(r.status).toBe(0);
    expect(r.docker).toEqual(['compose -f docker-compose.prod.yml --env-file .env.production up -d --build --wait']);

    const envFile = path.join(sandbox, '.env.production');
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(envFile, 'utf8');
    expect(text).toMatch(/^FERRY_DOMAIN=ferry\.test$/m);
    expect(text).toMatch(/^FERRY_PUBLIC_URL=https:\/\/ferry\.test:18443$/m);
    expect(text).toContain(`FERRY_STAGE_DIR=${path.join(data, 'stage')}\n`);
    expect(text).toMatch(/^FERRY_HTTPS_PORT=18443$/m);
    // Comments and untouched settings are the example's.
    expect(text).toMatch(/^# --- PostgreSQL -+$/m);
    expect(text).toMatch(/^PUBLISH_MODE=move$/m);
    expect(text).not.toMatch(/^[A-Z_]+=.*CHANGE_ME/m);

    for (const s of ['postgres_password', 'redis_password', 'ferry_admin_token']) expect(fs.statSync(path.join(sandbox, 'secrets', s)).size).toBeGreaterThanOrEqual(40);
    expect(fs.statSync(path.join(sandbox, 'secrets')).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(sandbox, 'certs/fullchain.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    expect(fs.existsSync(path.join(sandbox, 'acme'))).toBe(true);
    for (const d of ['stage', 'products']) expect(fs.existsSync(path.join(data, d, '.ferry-data-root'))).toBe(true);
    expect(r.stderr).toMatch(/Ferry is up: https:\/\/ferry\.test:18443/);
    expect(r.stderr).toMatch(/admin token: .*secrets\/ferry_admin_token/);
  });

  it('never overwrites an existing env file or secret on a later run', async () => {
    expect((await up()).status).toBe(0);
    const envFile = path.join(sandbox, '.env.production');
    fs.appendFileSync(envFile, '# edited by the operator\n');
    const token = fs.readFileSync(path.join(sandbox, 'secrets/ferry_admin_token'), 'utf8');
    const r = await up({ FERRY_HTTPS_PORT: '18444' });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(envFile, 'utf8')).toMatch(/# edited by the operator\n$/);
    expect(fs.readFileSync(envFile, 'utf8')).toMatch(/^FERRY_HTTPS_PORT=18443$/m);
    expect(fs.readFileSync(path.join(sandbox, 'secrets/ferry_admin_token'), 'utf8')).toBe(token);
  });

  it('stops before compose when the preflight fails, and writes no marker', async () => {
    fs.rmSync(path.join(data, 'products'), { recursive: true });
    const r = await up();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/✗ FERRY_PRODUCTS_DIR: .* does not exist/);
    expect(r.docker).toEqual([]);
    expect(fs.existsSync(path.join(data, 'stage', '.ferry-data-root'))).toBe(false);
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEnvFile, REPO_ROOT } from '../support/compose';

const SCRIPT = path.join(REPO_ROOT, 'deploy/validate-env.mjs');
const EXAMPLE = path.join(REPO_ROOT, '.env.production.example');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-validate-env-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

type Secrets = Record<string, string | undefined>;
const GOOD_SECRETS: Secrets = { postgres_password: 'p'.repeat(12) + 'Q7x9k2LmN4', redis_password: 'r'.repeat(10) + 'Zt5Yw8Vb3Nq1', ferry_admin_token: 'a'.repeat(20) + 'T0k3nT0k3nT0k3nX9q' };

/** A valid env (the example with its placeholders filled) plus changes; null deletes a variable. */
function writeEnv(changes: Record<string, string | null> = {}, secrets: Secrets = GOOD_SECRETS): void {
  const vars: Record<string, string> = { ...readEnvFile(EXAMPLE), FERRY_DOMAIN: 'ferry.example.org', FERRY_PUBLIC_URL: 'https://ferry.example.org' };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete vars[k];
    else vars[k] = v;
  }
  fs.writeFileSync(path.join(dir, 'env'), `# test env\n${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
  fs.mkdirSync(path.join(dir, 'secrets'), { recursive: true });
  for (const [name, value] of Object.entries(secrets)) if (value !== undefined) fs.writeFileSync(path.join(dir, 'secrets', name), `${value}\n`);
}

function run(extraEnv: Record<string, string> = {}, args: string[] = []) {
  const r = spawnSync(process.execPath, [SCRIPT, '--env', path.join(dir, 'env'), '--secrets-dir', path.join(dir, 'secrets'), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...extraEnv },
  });
  return { status: r.status, problems: r.stderr.split('\n').filter((l) => l.startsWith('✗ ')), stderr: r.stderr };
}

describe('deploy/validate-env.mjs', () => {
  it('accepts a complete production env and its secrets', () => {
    writeEnv();
    const r = run();
    expect(r.problems).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('accepts an absolute runbook base URL', () => {
    writeEnv({ FERRY_RUNBOOK_BASE_URL: 'https://git.example.org/ferry/-/blob/main/docs' });
    expect(run()).toMatchObject({ status: 0, problems: [] });
  });

  it('refuses the example file as it ships (placeholders, no secrets)', () => {
    fs.copyFileSync(EXAMPLE, path.join(dir, 'env'));
    const r = spawnSync(process.execPath, [SCRIPT, '--env', path.join(dir, 'env'), '--secrets-dir', path.join(dir, 'none')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FERRY_DOMAIN: still holds the placeholder/);
  });

  it('refuses a missing env file', () => {
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read it/);
  });

  const failures: [string, Record<string, string | null>, Secrets | undefined, RegExp][] = [
    ['a missing required variable', { FERRY_STAGE_DIR: null }, undefined, /^✗ FERRY_STAGE_DIR: is required$/],
    ['an empty required variable', { POSTGRES_DB: '' }, undefined, /^✗ POSTGRES_DB: is required$/],
    ['a CHANGE_ME placeholder', { FERRY_DOMAIN: 'CHANGE_ME', FERRY_PUBLIC_URL: 'https://CHANGE_ME' }, undefined, /^✗ FERRY_DOMAIN: still holds the placeholder/],
    ['a missing secret file', {}, { ...GOOD_SECRETS, redis_password: undefined }, /^✗ secrets\/redis_password: is missing/],
    ['a password shorter than 16', {}, { ...GOOD_SECRETS, postgres_password: 'Sh0rtPassw0rd' }, /^✗ secrets\/postgres_password: is 13 characters: the PostgreSQL password needs at least 16$/],
    ['an admin token shorter than 32', {}, { ...GOOD_SECRETS, ferry_admin_token: 'x'.repeat(31) }, /^✗ secrets\/ferry_admin_token: is 31 characters: the admin token needs at least 32$/],
    ['a well-known default password', {}, { ...GOOD_SECRETS, redis_password: 'password' }, /^✗ secrets\/redis_password: is a well-known default/],
    ['a CHANGE_ME secret', {}, { ...GOOD_SECRETS, ferry_admin_token: 'CHANGE_ME_CHANGE_ME_CHANGE_ME_CHANGE_ME' }, /^✗ secrets\/ferry_admin_token: is a well-known default/],
    ['the postgres default user', { POSTGRES_USER: 'postgres' }, undefined, /^✗ POSTGRES_USER: "postgres" is a well-known default/],
    ['the admin default user', { POSTGRES_USER: 'admin' }, undefined, /^✗ POSTGRES_USER: "admin" is a well-known default/],
    ['a secret in the env file', { POSTGRES_PASSWORD: 'x'.repeat(40) }, undefined, /^✗ POSTGRES_PASSWORD: must not be in the env file/],
    ['a plain-http public URL', { FERRY_PUBLIC_URL: 'http://ferry.example.org' }, undefined, /^✗ FERRY_PUBLIC_URL: must be an https:\/\/ URL/],
    ['a public URL that is not a URL', { FERRY_PUBLIC_URL: 'ferry.example.org' }, undefined, /^✗ FERRY_PUBLIC_URL: is not a URL$/],
    ['a public URL with a path', { FERRY_PUBLIC_URL: 'https://ferry.example.org/api' }, undefined, /^✗ FERRY_PUBLIC_URL: must be an origin only/],
    ['a public URL naming another host', { FERRY_PUBLIC_URL: 'https://other.example.org' }, undefined, /^✗ FERRY_PUBLIC_URL: names host other.example.org but FERRY_DOMAIN is ferry.example.org$/],
    ['a domain that is no host name', { FERRY_DOMAIN: 'ferry example', FERRY_PUBLIC_URL: 'https://ferry.example.org' }, undefined, /^✗ FERRY_DOMAIN: must be a host name or an IP address$/],
    ['a bind address that is no IP', { FERRY_BIND_ADDRESS: 'localhost' }, undefined, /^✗ FERRY_BIND_ADDRESS: must be an IP address/],
    ['a debug log level', { LOG_LEVEL: 'debug' }, undefined, /^✗ LOG_LEVEL: "debug" is a debug level/],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, undefined, /^✗ LOG_LEVEL: must be one of/],
    ['DEBUG set', { DEBUG: 'ferry:*' }, undefined, /^✗ DEBUG: must be empty in production$/],
    ['NODE_ENV other than production', { NODE_ENV: 'development' }, undefined, /^✗ NODE_ENV: must be one of production$/],
    ['an unknown publish mode', { PUBLISH_MODE: 'rename' }, undefined, /^✗ PUBLISH_MODE: must be one of move, copy$/],
    ['an OCSP switch other than on/off', { NGINX_OCSP_STAPLING: 'yes' }, undefined, /^✗ NGINX_OCSP_STAPLING: must be one of on, off$/],
    ['a port out of range', { FERRY_HTTPS_PORT: '70000' }, undefined, /^✗ FERRY_HTTPS_PORT: must be a whole number from 1 to 65535$/],
    ['a non-numeric number', { PUBLISH_BACKOFF_MAX_SECONDS: 'soon' }, undefined, /^✗ PUBLISH_BACKOFF_MAX_SECONDS: must be a number/],
    ['a drain longer than the stop grace period allows', { SHUTDOWN_GRACE_SECONDS: '36' }, undefined, /^✗ SHUTDOWN_GRACE_SECONDS: must be at most 35 so the drain ends before/],
    ['an invalid database name', { POSTGRES_DB: 'Ferry-DB' }, undefined, /^✗ POSTGRES_DB: must be a lower-case PostgreSQL database name$/],
    ['an invalid Redis prefix', { REDIS_PREFIX: 'a b' }, undefined, /^✗ REDIS_PREFIX: must be letters, digits/],
    ['an invalid image tag', { FERRY_IMAGE_TAG: 'v1:2' }, undefined, /^✗ FERRY_IMAGE_TAG: must be a Docker image tag$/],
    ['an invalid body size', { NGINX_CLIENT_MAX_BODY_SIZE: 'big' }, undefined, /^✗ NGINX_CLIENT_MAX_BODY_SIZE: must be an nginx size/],
    ['an invalid proxy timeout', { NGINX_PROXY_READ_TIMEOUT: 'a minute' }, undefined, /^✗ NGINX_PROXY_READ_TIMEOUT: must be an nginx time/],
    ['an invalid Redis memory size', { REDIS_MAXMEMORY: 'lots' }, undefined, /^✗ REDIS_MAXMEMORY: must be a Redis size/],
    ['an invalid product type list', { PRODUCT_TYPES: 'Image,,ms' }, undefined, /^✗ PRODUCT_TYPES: must be comma-separated lower-case types$/],
    ['HTTP and HTTPS on one port', { FERRY_HTTP_PORT: '8443', FERRY_HTTPS_PORT: '8443' }, undefined, /^✗ FERRY_HTTPS_PORT: must differ from FERRY_HTTP_PORT$/],
    ['the services running as root', { FERRY_UID: '0' }, undefined, /^✗ FERRY_UID: must not be root$/],
    ['a relative data directory', { FERRY_STAGE_DIR: 'data/stage' }, undefined, /^✗ FERRY_STAGE_DIR: must be an absolute path$/],
    ['a system directory as data root', { FERRY_PRODUCTS_DIR: '/etc' }, undefined, /^✗ FERRY_PRODUCTS_DIR: must not be the system directory \/etc$/],
    ['a relative runbook base URL', { FERRY_RUNBOOK_BASE_URL: 'docs' }, undefined, /^✗ FERRY_RUNBOOK_BASE_URL: is not an absolute URL/],
    ['a runbook base URL that is not http(s)', { FERRY_RUNBOOK_BASE_URL: 'file:///srv/ferry/docs' }, undefined, /^✗ FERRY_RUNBOOK_BASE_URL: must be an http\(s\):\/\/ URL$/],
    ['a runbook base URL with a fragment', { FERRY_RUNBOOK_BASE_URL: 'https://git.example.org/ferry/docs#x' }, undefined, /^✗ FERRY_RUNBOOK_BASE_URL: must have no query or fragment/],
    ['nested data roots', { FERRY_STAGE_DIR: '/srv/ferry', FERRY_PRODUCTS_DIR: '/srv/ferry/products' }, undefined, /^✗ FERRY_PRODUCTS_DIR: must not be, contain or sit inside FERRY_STAGE_DIR$/],
  ];

  it.each(failures)('reports %s', (_what, changes, secrets, expected) => {
    writeEnv(changes, secrets);
    const r = run();
    expect(r.status).toBe(1);
    expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('prints each problem on its own line', () => {
    writeEnv({ LOG_LEVEL: 'debug', FERRY_HTTPS_PORT: '0', POSTGRES_USER: 'postgres' });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.problems).toHaveLength(3);
    expect(r.stderr).toMatch(/^3 problem\(s\) in /m);
  });

  it('lets an exported variable override the file, as compose does', () => {
    writeEnv({ LOG_LEVEL: 'debug' });
    expect(run().status).toBe(1);
    expect(run({ LOG_LEVEL: 'info' }).status).toBe(0);
    writeEnv();
    expect(run({ FERRY_PUBLIC_URL: 'http://ferry.example.org' }).problems).toEqual([expect.stringMatching(/^✗ FERRY_PUBLIC_URL: must be an https/)]);
  });

  it('uses colour only on a terminal', () => {
    writeEnv({ LOG_LEVEL: 'debug' });
    expect(run().stderr).not.toContain('\u001b[');
    const cmd = `${process.execPath} ${SCRIPT} --env ${path.join(dir, 'env')} --secrets-dir ${path.join(dir, 'secrets')}`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', TERM: 'dumb' } });
    expect(tty.stdout).toContain('\u001b[31m✗ LOG_LEVEL');
    const noColor = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', TERM: 'dumb', NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain('\u001b[');
  });

  it('answers --help and refuses an unknown argument', () => {
    expect(spawnSync(process.execPath, [SCRIPT, '--help'], { encoding: 'utf8' }).stdout).toMatch(/^Usage: /);
    expect(spawnSync(process.execPath, [SCRIPT, '--bogus'], { encoding: 'utf8' }).status).toBe(2);
  });
});

#!/usr/bin/env node
// Checks .env.production (and the secret files) before the stack starts: required variables,
// placeholders and well-known defaults, minimum secret lengths, production settings. Prints each
// problem on its own line and exits 1 when there is any. Node only, no dependencies.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const HELP = `Usage: node deploy/validate-env.mjs [--env FILE] [--secrets-dir DIR] [--example FILE]

Validates the production environment the way docker compose will see it: the variables of FILE
(default .env.production), each overridden by the same variable exported in the shell, plus the
secret files in DIR (default ./secrets). Exit 0 when valid, 1 with one line per problem, 2 on usage.
Colour only when stderr is a terminal and NO_COLOR is unset.`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Parses KEY=VALUE lines as compose does for an env file (comments, blank lines, quotes). */
export function parseEnvFile(text) {
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]] = value;
  }
  return out;
}

const SECRETS = [
  { file: 'postgres_password', min: 16, what: 'PostgreSQL password' },
  { file: 'redis_password', min: 16, what: 'Redis password' },
  { file: 'ferry_admin_token', min: 32, what: 'admin token' },
];
// Values nobody should run production with.
const FORBIDDEN = new Set(['postgres', 'admin', 'administrator', 'password', 'passwd', 'secret', 'root', 'changeme', 'change_me', 'default', 'example', 'test', '123456', '12345678']);
const REQUIRED = ['FERRY_DOMAIN', 'FERRY_PUBLIC_URL', 'FERRY_STAGE_DIR', 'FERRY_PRODUCTS_DIR', 'POSTGRES_USER', 'POSTGRES_DB'];
const SECRET_IN_ENV = ['POSTGRES_PASSWORD', 'DATABASE_PASSWORD', 'REDIS_PASSWORD', 'FERRY_ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL'];
const SYSTEM_DIRS = ['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/proc', '/root', '/run', '/sbin', '/sys', '/tmp', '/usr', '/var', '/var/lib/docker', '/var/run'];
// Compose's stop_grace_period of api and worker; the drain must end 5 s before Docker's SIGKILL.
const STOP_GRACE_SECONDS = 40;
const DEBUG_LEVELS = ['debug', 'silly'];

// The services' own rules (ranges, enums, patterns), generated from the config schema into
// env-rules.json so this check needs no build; the test beside the schema proves the file current.
const RULES = JSON.parse(fs.readFileSync(path.join(root, 'deploy/env-rules.json'), 'utf8'));
// Variables the services read that compose takes from the env file (its ${NAME} interpolations and
// the names it passes through without a value).
const FORWARDED = forwardedNames();

// Deploy-side variables (compose, nginx, Redis, preflight), which the config schema does not know.
const INTS = {
  FERRY_HTTP_PORT: [1, 65535], FERRY_HTTPS_PORT: [1, 65535], FERRY_UID: [1, 2147483647], FERRY_GID: [0, 2147483647],
  NGINX_LIMIT_CONN_PER_IP: [1, 100000],
  PREFLIGHT_MIN_STAGE_FREE_GB: [0, 1000000], PREFLIGHT_MIN_PRODUCTS_FREE_GB: [0, 1000000], PREFLIGHT_MIN_STATE_FREE_GB: [0, 1000000],
};
const NUMBERS = {};
const ENUMS = { NGINX_OCSP_STAPLING: ['on', 'off'] };
const PATTERNS = {
  POSTGRES_USER: [/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case PostgreSQL role name'],
  POSTGRES_DB: [/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case PostgreSQL database name'],
  FERRY_IMAGE_TAG: [/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'a Docker image tag'],
  // The schema checks each type after splitting the list; this is the same rule over the whole list.
  PRODUCT_TYPES: [/^[a-z0-9_-]{1,64}(,[a-z0-9_-]{1,64})*$/, 'comma-separated lower-case types'],
  NGINX_CLIENT_MAX_BODY_SIZE: [/^[0-9]+[kKmM]?$/, 'an nginx size such as 1m'],
  NGINX_PROXY_READ_TIMEOUT: [/^[0-9]+(ms|s|m)?$/, 'an nginx time such as 60s'],
  REDIS_MAXMEMORY: [/^[0-9]+(kb|mb|gb)?$/i, 'a Redis size such as 512mb'],
};
for (const [name, rule] of Object.entries(RULES.variables)) {
  if (!FORWARDED.has(name) || SECRET_IN_ENV.includes(name)) continue;
  if (rule.type === 'integer') INTS[name] = [rule.minimum, rule.maximum];
  else if (rule.type === 'number') NUMBERS[name] = [rule.minimum, rule.maximum];
  else if (rule.enum) ENUMS[name] = rule.enum;
  else if (rule.pattern && !PATTERNS[name]) PATTERNS[name] = [new RegExp(rule.pattern), rule.patternMessage ?? `matching ${rule.pattern}`];
}
// Production policy on top of the schema: no debug levels, no development mode, and a drain that
// ends before Docker's SIGKILL.
ENUMS.LOG_LEVEL = ENUMS.LOG_LEVEL?.filter((level) => !DEBUG_LEVELS.includes(level)) ?? [];
ENUMS.NODE_ENV = ['production'];
if (NUMBERS.SHUTDOWN_GRACE_SECONDS) NUMBERS.SHUTDOWN_GRACE_SECONDS[1] = Math.min(NUMBERS.SHUTDOWN_GRACE_SECONDS[1], STOP_GRACE_SECONDS - 5);

/** The schema variables compose takes from the env file; every one when compose is absent. */
function forwardedNames() {
  try {
    const compose = fs.readFileSync(path.join(root, 'docker-compose.prod.yml'), 'utf8');
    const interpolated = [...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
    const passedThrough = [...compose.matchAll(/^\s+([A-Z][A-Z0-9_]*):\s*$/gm)].map((m) => m[1]);
    return new Set([...interpolated, ...passedThrough]);
  } catch {
    return new Set(Object.keys(RULES.variables));
  }
}

function isPlaceholder(value) {
  return /change[_-]?me/i.test(value);
}

function within(child, parent) {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Every problem with an environment (after overrides) and its secret files, one string each. */
export function validateEnv(env, secrets) {
  const problems = [];
  const add = (name, msg) => problems.push(`${name}: ${msg}`);

  for (const name of REQUIRED) if (!env[name]) add(name, 'is required');
  for (const [name, value] of Object.entries(env)) {
    if (value && isPlaceholder(value)) add(name, `still holds the placeholder "${value}": set a real value`);
  }
  for (const name of SECRET_IN_ENV) {
    if (env[name]) add(name, 'must not be in the env file: secrets live in ./secrets/ (deploy/generate-secrets.sh)');
  }

  for (const { file, min, what } of SECRETS) {
    const value = secrets[file];
    if (value === undefined) { add(`secrets/${file}`, `is missing: run deploy/generate-secrets.sh (${what})`); continue; }
    if (isPlaceholder(value) || FORBIDDEN.has(value.toLowerCase())) add(`secrets/${file}`, `is a well-known default: generate a random ${what}`);
    else if (value.length < min) add(`secrets/${file}`, `is ${value.length} characters: the ${what} needs at least ${min}`);
  }

  if (env.POSTGRES_USER && !isPlaceholder(env.POSTGRES_USER) && FORBIDDEN.has(env.POSTGRES_USER.toLowerCase())) {
    add('POSTGRES_USER', `"${env.POSTGRES_USER}" is a well-known default: use a dedicated role such as ferry`);
  }

  if (env.FERRY_PUBLIC_URL && !isPlaceholder(env.FERRY_PUBLIC_URL)) {
    let url;
    try { url = new URL(env.FERRY_PUBLIC_URL); } catch { add('FERRY_PUBLIC_URL', 'is not a URL'); }
    if (url && url.protocol !== 'https:') add('FERRY_PUBLIC_URL', 'must be an https:// URL (production serves TLS only)');
    if (url && (url.pathname !== '/' || url.search || url.hash)) add('FERRY_PUBLIC_URL', 'must be an origin only, without path, query or fragment');
    if (url && env.FERRY_DOMAIN && !isPlaceholder(env.FERRY_DOMAIN) && url.hostname !== env.FERRY_DOMAIN.toLowerCase()) {
      add('FERRY_PUBLIC_URL', `names host ${url.hostname} but FERRY_DOMAIN is ${env.FERRY_DOMAIN}`);
    }
  }
  // Alerts link <this>/runbooks.md#<alert>: a pager opens it from anywhere, so it must be absolute.
  if (env.FERRY_RUNBOOK_BASE_URL && !isPlaceholder(env.FERRY_RUNBOOK_BASE_URL)) {
    let url;
    try { url = new URL(env.FERRY_RUNBOOK_BASE_URL); } catch { add('FERRY_RUNBOOK_BASE_URL', 'is not an absolute URL: give the https:// address of Ferry\'s docs/ folder'); }
    if (url && !['https:', 'http:'].includes(url.protocol)) add('FERRY_RUNBOOK_BASE_URL', 'must be an http(s):// URL');
    if (url && (url.search || url.hash)) add('FERRY_RUNBOOK_BASE_URL', 'must have no query or fragment (alerts append /runbooks.md#<alert>)');
  }
  if (env.FERRY_DOMAIN && !isPlaceholder(env.FERRY_DOMAIN) && !/^[A-Za-z0-9.-]{1,253}$/.test(env.FERRY_DOMAIN) && net.isIP(env.FERRY_DOMAIN) === 0) {
    add('FERRY_DOMAIN', 'must be a host name or an IP address');
  }
  if (env.FERRY_BIND_ADDRESS && net.isIP(env.FERRY_BIND_ADDRESS) === 0) add('FERRY_BIND_ADDRESS', 'must be an IP address (0.0.0.0 for all)');

  // Production, not debugging.
  if (env.LOG_LEVEL && DEBUG_LEVELS.includes(env.LOG_LEVEL)) add('LOG_LEVEL', `"${env.LOG_LEVEL}" is a debug level: use info in production`);
  else if (env.LOG_LEVEL && !ENUMS.LOG_LEVEL.includes(env.LOG_LEVEL)) add('LOG_LEVEL', `must be one of ${ENUMS.LOG_LEVEL.join(', ')}`);
  if (env.DEBUG) add('DEBUG', 'must be empty in production');
  for (const [name, allowed] of Object.entries(ENUMS)) {
    if (name !== 'LOG_LEVEL' && env[name] && !allowed.includes(env[name])) add(name, `must be one of ${allowed.join(', ')}`);
  }

  for (const [name, [lo, hi]] of Object.entries(INTS)) {
    if (env[name] === undefined || env[name] === '') continue;
    if (!/^[0-9]+$/.test(env[name]) || Number(env[name]) < lo || Number(env[name]) > hi) add(name, `must be a whole number from ${lo} to ${hi}`);
  }
  for (const [name, [lo, hi]] of Object.entries(NUMBERS)) {
    if (env[name] === undefined || env[name] === '') continue;
    const n = Number(env[name]);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(env[name]) || n < lo || n > hi) {
      add(name, name === 'SHUTDOWN_GRACE_SECONDS'
        ? `must be at most ${hi} so the drain ends before compose's stop_grace_period (${STOP_GRACE_SECONDS}s)`
        : `must be a number from ${lo} to ${hi}`);
    }
  }
  for (const [name, [re, what]] of Object.entries(PATTERNS)) {
    if (env[name] && !isPlaceholder(env[name]) && !re.test(env[name])) add(name, `must be ${what}`);
  }
  if (env.FERRY_HTTP_PORT && env.FERRY_HTTP_PORT === env.FERRY_HTTPS_PORT) add('FERRY_HTTPS_PORT', 'must differ from FERRY_HTTP_PORT');
  if (env.FERRY_UID === '0') add('FERRY_UID', 'must not be root');

  const dirs = ['FERRY_STAGE_DIR', 'FERRY_PRODUCTS_DIR'].filter((n) => env[n] && !isPlaceholder(env[n]));
  for (const name of dirs) {
    if (!path.isAbsolute(env[name])) add(name, 'must be an absolute path');
    else if (SYSTEM_DIRS.includes(path.resolve(env[name]))) add(name, `must not be the system directory ${path.resolve(env[name])}`);
  }
  if (dirs.length === 2 && path.isAbsolute(env.FERRY_STAGE_DIR) && path.isAbsolute(env.FERRY_PRODUCTS_DIR)) {
    const [a, b] = [path.resolve(env.FERRY_STAGE_DIR), path.resolve(env.FERRY_PRODUCTS_DIR)];
    if (within(a, b) || within(b, a)) add('FERRY_PRODUCTS_DIR', 'must not be, contain or sit inside FERRY_STAGE_DIR');
  }
  return problems;
}

/** The environment compose will use: the file's variables, each overridden by an exported one. */
export function effectiveEnv(fileVars, processEnv, knownNames) {
  const env = { ...fileVars };
  for (const name of new Set([...Object.keys(fileVars), ...knownNames])) {
    if (processEnv[name] !== undefined) env[name] = processEnv[name];
  }
  return env;
}

function readSecrets(dir) {
  const out = {};
  for (const { file } of SECRETS) {
    try { out[file] = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\r?\n$/, ''); } catch { /* reported as missing */ }
  }
  return out;
}

function main(argv) {
  const opts = { envFile: path.join(root, '.env.production'), secretsDir: path.join(root, 'secrets'), example: path.join(root, '.env.production.example') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { console.log(HELP); return 0; }
    const key = { '--env': 'envFile', '--secrets-dir': 'secretsDir', '--example': 'example' }[a];
    if (!key || argv[i + 1] === undefined) { console.error(`validate-env: unknown or incomplete argument: ${a}\n\n${HELP}`); return 2; }
    opts[key] = path.resolve(argv[++i]);
  }
  const color = process.stderr.isTTY && !process.env.NO_COLOR;
  const red = (s) => (color ? `\u001b[31m${s}\u001b[0m` : s);
  const green = (s) => (color ? `\u001b[32m${s}\u001b[0m` : s);

  let text;
  try { text = fs.readFileSync(opts.envFile, 'utf8'); } catch {
    console.error(red(`${opts.envFile}: cannot read it (create it from .env.production.example, or run deploy/up.sh)`));
    return 1;
  }
  let known = [];
  try { known = Object.keys(parseEnvFile(fs.readFileSync(opts.example, 'utf8'))); } catch { /* no example: file variables only */ }
  const env = effectiveEnv(parseEnvFile(text), process.env, [...known, ...SECRET_IN_ENV, 'DEBUG', 'NODE_ENV']);
  const problems = validateEnv(env, readSecrets(opts.secretsDir));
  if (problems.length) {
    for (const p of problems) console.error(red(`✗ ${p}`));
    console.error(`${problems.length} problem(s) in ${path.relative(process.cwd(), opts.envFile) || opts.envFile}`);
    return 1;
  }
  console.error(green(`✓ ${path.relative(process.cwd(), opts.envFile) || opts.envFile} and the secrets are valid`));
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

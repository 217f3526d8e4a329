import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { healthcheckCommand, loadCompose, REPO_ROOT } from '../support/compose';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { prepareNginx, type NginxUnderTest } from '../support/nginx';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';
import { deleteRedisPrefix, testRedisPrefix } from '../support/redis';
import { TEST_ADMIN_TOKEN } from '../support/tokens';
import { waitFor } from '../support/wait-for';

// The health-check commands of docker-compose.prod.yml, taken from the file and run as Docker
// would run them (CMD-SHELL through sh, CMD as an argument vector, $$ unescaped), against native
// equivalents of each service:
//   postgres -> the local PostgreSQL on 127.0.0.1:5432 (POSTGRES_USER/POSTGRES_DB = postgres)
//   redis    -> a redis-server started here with deploy/redis/redis.conf and a password file
//   api      -> node dist/api/main.js started here (cwd = repository root, as WORKDIR /app)
//   worker   -> node dist/worker/main.js started here, heartbeat file in a temp directory
//   nginx    -> the real nginx/ configuration started natively (curl to the internal listener)
//   migrate  -> one-shot: no health check; api and worker wait for it to complete instead.

const doc = loadCompose(path.join(REPO_ROOT, 'docker-compose.prod.yml'));

function runCheck(service: string, env: Record<string, string>): { status: number | null; output: string } {
  const cmd = healthcheckCommand(doc.services[service]!);
  const opts = { cwd: REPO_ROOT, encoding: 'utf8' as const, timeout: 20000, env: { PATH: process.env.PATH ?? '', ...env } };
  const r = 'shell' in cmd
    ? spawnSync('/bin/sh', ['-c', cmd.shell], opts)
    : spawnSync(cmd.argv[0] === 'node' ? process.execPath : cmd.argv[0]!, cmd.argv.slice(1), opts);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

let tmp: string;
let db: TestDatabase;
let roots: TestRoots;
let redisPrefix: string;
let appEnv: Record<string, string>;
let api: NodeProcess;
let worker: NodeProcess;
let redis: ReturnType<typeof spawn>;
let redisPort: number;
let nginx: NginxUnderTest;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-healthchecks-'));
  db = await createTestDatabase();
  roots = await createTestRoots();
  redisPrefix = testRedisPrefix();
  appEnv = testEnv(
    { databaseUrl: db.url, redisPrefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
    { FERRY_ADMIN_TOKEN: TEST_ADMIN_TOKEN, API_WORKERS: '1', LOG_LEVEL: 'info', PORT: String(await freePort()), WORKER_HEARTBEAT_FILE: path.join(tmp, 'worker.heartbeat') },
  ) as Record<string, string>;

  api = startNodeProcess('api/main.js', { ...appEnv, METRICS_PORT: String(await freePort()) });
  worker = startNodeProcess('worker/main.js', { ...appEnv, METRICS_PORT: String(await freePort()) });

  fs.writeFileSync(path.join(tmp, 'redis_password'), 'healthcheck-redis-password-0123456789');
  fs.mkdirSync(path.join(tmp, 'redis-data'));
  redisPort = await freePort();
  redis = spawn('redis-server', [path.join(REPO_ROOT, 'deploy/redis/redis.conf'), '--bind', '127.0.0.1', '--port', String(redisPort), '--requirepass', 'healthcheck-redis-password-0123456789', '--maxmemory', '64mb'], { cwd: path.join(tmp, 'redis-data'), stdio: 'ignore' });

  const certDir = path.join(tmp, 'certs');
  spawnSync('sh', [path.join(REPO_ROOT, 'deploy/generate-cert.sh'), '--domain', 'localhost', '--cert', path.join(certDir, 'fullchain.pem'), '--key', path.join(certDir, 'privkey.pem')]);
  nginx = await prepareNginx({ cert: path.join(certDir, 'fullchain.pem'), key: path.join(certDir, 'privkey.pem') });
  await nginx.start();

  await api.waitForLog((l) => l.message === 'api listening', 60000);
  await waitFor(() => fs.existsSync(appEnv.WORKER_HEARTBEAT_FILE!), 30000, 'the worker heartbeat file', 100);
}, 180000);

afterAll(async () => {
  await nginx?.stop();
  for (const p of [api, worker]) {
    p?.kill();
    await p?.exited;
  }
  if (redis && redis.exitCode === null) {
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await exited;
  }
  await deleteRedisPrefix(redisPrefix);
  await db?.drop();
  await roots?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
}, 60000);

describe('compose health checks against native services', () => {
  it('gives every long-running service a health check and the one-shot migrate none', () => {
    expect(Object.keys(doc.services).filter((s) => doc.services[s]!.healthcheck && !doc.services[s]!.healthcheck!.disable).sort()).toEqual(['api', 'nginx', 'postgres', 'redis', 'worker']);
    expect(doc.services.migrate!.healthcheck).toEqual({ disable: true });
  });

  it('postgres: pg_isready is green against a running PostgreSQL', () => {
    const r = runCheck('postgres', { POSTGRES_USER: 'postgres', POSTGRES_DB: 'postgres' });
    expect(r).toEqual({ status: 0, output: '' });
  });

  it('postgres: the same command is red when nothing listens', async () => {
    const cmd = healthcheckCommand(doc.services.postgres!) as { shell: string };
    const port = await freePort();
    const r = spawnSync('/bin/sh', ['-c', cmd.shell.replace('-p 5432', `-p ${port}`)], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', POSTGRES_USER: 'postgres', POSTGRES_DB: 'postgres' } });
    expect(r.status).not.toBe(0);
  });

  it('redis: redis-cli with the password from the secret file is green', async () => {
    await waitFor(() => runCheck('redis', { REDIS_PASSWORD_FILE: path.join(tmp, 'redis_password'), REDIS_PORT: String(redisPort) }).status === 0, 10000, 'redis to answer', 100);
    expect(runCheck('redis', { REDIS_PASSWORD_FILE: path.join(tmp, 'redis_password'), REDIS_PORT: String(redisPort) }).status).toBe(0);
  });

  it('redis: the same command is red with a wrong password', () => {
    fs.writeFileSync(path.join(tmp, 'wrong_password'), 'not-the-password');
    expect(runCheck('redis', { REDIS_PASSWORD_FILE: path.join(tmp, 'wrong_password'), REDIS_PORT: String(redisPort) }).status).not.toBe(0);
  });

  it('api: node dist/ops/healthcheck.js api is green against the running api', () => {
    expect(runCheck('api', appEnv)).toEqual({ status: 0, output: '' });
  });

  it('api: the same command is red when the api is not there', async () => {
    const r = runCheck('api', { ...appEnv, PORT: String(await freePort()) });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/unhealthy: api \/health\/ready/);
  });

  it('worker: node dist/ops/healthcheck.js worker is green against the running worker', () => {
    expect(runCheck('worker', appEnv)).toEqual({ status: 0, output: '' });
  });

  it('worker: the same command is red without a heartbeat', () => {
    const r = runCheck('worker', { ...appEnv, WORKER_HEARTBEAT_FILE: path.join(tmp, 'no-such.heartbeat') });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/heartbeat .* is missing/);
  });

  it('nginx: curl to the internal listener is green against the running nginx', () => {
    expect(runCheck('nginx', { NGINX_STATUS_PORT: String(nginx.ports.status) })).toEqual({ status: 0, output: '' });
  });

  it('nginx: the same command is red when nginx is not listening', async () => {
    expect(runCheck('nginx', { NGINX_STATUS_PORT: String(await freePort()) }).status).not.toBe(0);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { ROOT, startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/free-port';
import { deleteRedisPrefix, testRedisPrefix } from '../support/redis';

/** Process-level harness for the ferryctl e2e tests: a real api (and worker) from dist/, ferryctl as a child process. */

export const FERRYCTL = path.join(ROOT, 'dist', 'cli', 'ferryctl.js');
export { TEST_ADMIN_TOKEN as ADMIN_TOKEN } from '../support/tokens';
import { TEST_ADMIN_TOKEN as ADMIN_TOKEN } from '../support/tokens';


/** A process started here: SIGTERM first, SIGKILL when it has not exited after 15 s. */
async function stopProcess(p: NodeProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.kill(), 15_000);
  await p.exited;
  clearTimeout(timer);
}

/** What a process wrote, for failure messages: its log lines, then its stderr. */
function output(p: NodeProcess): string {
  return [...p.lines.map((l) => JSON.stringify(l)), ...p.stderr].join('\n');
}

/** A running api (and optionally a worker) on a database, Redis prefix and roots of its own. */
export interface FerryStack {
  url: string;
  db: TestDatabase;
  roots: TestRoots;
  env: NodeJS.ProcessEnv;
  startWorker(): Promise<void>;
  /** Stops the api process (SIGTERM), leaving the rest running. */
  stopApi(): Promise<void>;
  /** Starts the api process again (after stopApi) and waits until it is ready. */
  startApi(): Promise<void>;
  /** Registers a product through the API (POST /api/products), as a pipeline would. */
  register(body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts `node dist/api/main.js` (API_WORKERS=1) and waits until /health/ready answers 200. */
export async function startStack(extra: Record<string, string> = {}): Promise<FerryStack> {
  const db = await createTestDatabase();
  const roots = await createTestRoots();
  const redisPrefix = testRedisPrefix();
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    ...testEnv(
      { databaseUrl: db.url, redisPrefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
      {
        FERRY_ADMIN_TOKEN: ADMIN_TOKEN,
        API_WORKERS: '1',
        PORT: String(port),
        METRICS_PORT: '0',
        WORKER_HEARTBEAT_FILE: path.join(roots.base, 'worker.heartbeat'),
        RECONCILE_INTERVAL_SECONDS: '1',
        PUBLISH_BACKOFF_BASE_SECONDS: '0.1',
        PUBLISH_MODE: 'copy',
        ...extra,
      },
    ),
  };
  const url = `http://127.0.0.1:${port}`;
  let api = startNodeProcess('api/main.js', env);
  let worker: NodeProcess | undefined;
  const stack: FerryStack = {
    url,
    db,
    roots,
    env,
    async startWorker() {
      worker = startNodeProcess('worker/main.js', env);
    },
    async stopApi() {
      await stopProcess(api);
    },
    async startApi() {
      await stopProcess(api);
      api = startNodeProcess('api/main.js', env);
      await waitReady();
    },
    async register(body) {
      const res = await fetch(`${url}/api/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status !== 201) throw new Error(`register answered ${res.status}: ${JSON.stringify(json)}\napi output:\n${output(api)}`);
      return json;
    },
    async close() {
      await stopProcess(worker);
      await stopProcess(api);
      await deleteRedisPrefix(redisPrefix);
      await db.drop();
      await roots.cleanup();
    },
  };
  /** Waits until the api answers /health/ready with 200; throws with its output when it exits or takes over a minute. */
  async function waitReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await fetch(`${url}/health/ready`).then((r) => r.status, () => 0);
      if (status === 200) return;
      if (api.child.exitCode !== null || Date.now() > deadline) throw new Error(`api did not become ready (exit ${api.child.exitCode}):\n${output(api)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    await waitReady();
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

/** What a ferryctl run ended with. */
export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/ferryctl.js args` as a separate process with only the given environment (plus PATH). */
export function ferryctl(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    const child = spawnFerryctl(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ferryctl ${args.join(' ')} did not finish within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts ferryctl without waiting for it (watch). */
export function spawnFerryctl(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [FERRYCTL, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The environment pointing ferryctl at a stack with the admin token. */
export function adminEnv(stack: FerryStack): Record<string, string> {
  return { FERRY_URL: stack.url, FERRY_TOKEN: ADMIN_TOKEN };
}

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { apiNodeFlags } from '../../test/support/compose';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { freePort } from '../../test/support/free-port';
import { startNodeProcess, type NodeProcess } from '../../test/support/node-process';
import { deleteRedisPrefix, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/redis';
import { settlePageCache } from './files';
import { medianOf, since, sq } from './measure';

/**
 * Peak resident set size (VmHWM) of a live process, in bytes, with its children's added: an api
 * with API_WORKERS > 1 is a cluster primary and its workers.
 */
export async function peakRss(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  if (!m) return undefined;
  const children = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
  const theirs = await Promise.all(children.map((c) => peakRss(c)));
  return Number(m[1]) * 1024 + theirs.reduce<number>((sum, r) => sum + (r ?? 0), 0);
}

/**
 * The registry poll's interval where one product's register → published time is measured. A poll
 * every 25 ms added 12.5 ms on average to a figure of well under a second, against tools timed to
 * the millisecond; one every 5 ms adds 2.5 ms, and its queries cost the machine about 3 % of one
 * core (0.17 ms of CPU a poll, client and PostgreSQL, measured here).
 */
export const SINGLE_POLL_MS = 5;

export interface Ferry {
  url: string;
  token: string;
  /** REDIS_PREFIX: everything under it is deleted when Ferry stops. */
  redisPrefix: string;
  stageRoot: string;
  productsRoot: string;
  db: TestDatabase;
  /**
   * The api's and the worker's process ids (the worker's undefined when it was not started), for
   * their CPU time (cpuSeconds; an api's cluster workers are not counted: the bench runs one process).
   */
  pids: { api?: number; worker?: number };
  request(method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  register(product: { data_id: string; data_type: string; stage_path: string }): Promise<void>;
  /**
   * Waits until `count` products are published, polling the registry every `pollMs` (25 by
   * default; SINGLE_POLL_MS where one product's time is measured).
   */
  waitPublished(count: number, opts?: { pollMs?: number; timeoutMs?: number }): Promise<void>;
  peakRss(): Promise<{ api?: number; worker?: number }>;
  stop(): Promise<void>;
}

async function stop(p: NodeProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.kill(), 30000);
  await p.exited;
  clearTimeout(timer);
}

/**
 * A real Ferry for one benchmark part: api and worker from dist/, production settings, its own
 * database, Redis prefix and data roots under workDir. Rate limits are lifted: the load is ours.
 */
export async function startFerry(
  workDir: string,
  opts: { mode?: 'copy' | 'move'; concurrency?: number; worker?: boolean; env?: Record<string, string> } = {},
): Promise<Ferry> {
  const stageRoot = path.join(workDir, 'stage');
  const productsRoot = path.join(workDir, 'products');
  await fs.mkdir(stageRoot, { recursive: true });
  await fs.mkdir(productsRoot, { recursive: true });
  const db = await createTestDatabase();
  const prefix = testRedisPrefix();
  const token = crypto.randomBytes(32).toString('hex');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '20',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    STAGE_ROOT: stageRoot,
    PRODUCTS_ROOT: productsRoot,
    PRODUCT_TYPES: 'image,mosaic,caltable,ms',
    PUBLISH_MODE: opts.mode ?? 'copy',
    PUBLISH_CONCURRENCY: String(opts.concurrency ?? 8),
    PUBLISH_FREE_SPACE_MARGIN_MB: '64',
    FERRY_ADMIN_TOKEN: token,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    METRICS_HOST: '127.0.0.1',
    // The api part measures both cluster sizes (BENCH_API_WORKERS); every other part runs one.
    API_WORKERS: '1',
    RATE_LIMIT_PER_IP: '1000000',
    RATE_LIMIT_PER_TOKEN: '1000000',
    WORKER_HEARTBEAT_FILE: path.join(workDir, 'worker.heartbeat'),
    // BENCH_NODE_OPTIONS reaches the api and worker, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    ...opts.env,
  };
  // The api runs with production's Node flags (its heap size), then BENCH_NODE_OPTIONS.
  const apiNodeOptions = [...apiNodeFlags(), env.NODE_OPTIONS ?? ''].join(' ').trim();
  const api = startNodeProcess('api/main.js', { ...env, NODE_OPTIONS: apiNodeOptions, PORT: String(port), METRICS_PORT: String(await freePort()) });
  const worker = opts.worker === false ? undefined : startNodeProcess('worker/main.js', { ...env, METRICS_PORT: String(await freePort()) });
  const url = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  // The load generator shares the two cores with Ferry, so it must cost as little as it can:
  // node:http with kept-alive connections spends about a third of the CPU per request that
  // fetch does here (docs/performance.md, ninth pass).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const send = (method: string, p: string, body: string | undefined) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(url + p, { method, agent, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

  const ferry: Ferry = {
    url, token, redisPrefix: prefix, stageRoot, productsRoot, db,
    pids: { api: api.child.pid, worker: worker?.child.pid },
    async request(method, p, body) {
      const res = await send(method, p, body === undefined ? undefined : JSON.stringify(body));
      return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
    },
    async register(product) {
      const res = await this.request('POST', '/api/products', product);
      if (res.status !== 201) throw new Error(`register ${product.data_id}: ${res.status} ${JSON.stringify(res.body)}`);
    },
    async waitPublished(count, { pollMs = 25, timeoutMs = 900000 } = {}) {
      const t0 = Date.now();
      for (;;) {
        // Straight from the registry's trigger-kept counts: polling an API endpoint every 25 ms
        // would spend a good part of the 2 cores on the observer rather than on the publishes.
        const res = await db.pool.query<{ status: string; n: number }>(
          `SELECT status::text AS status, sum(count)::bigint AS n FROM product_status_counts WHERE status IN ('published', 'failed') GROUP BY status`,
        );
        const body = Object.fromEntries(res.rows.map((r) => [r.status, Number(r.n)]));
        if ((body.published ?? 0) >= count) return;
        if ((body.failed ?? 0) > 0) throw new Error(`publishes failed: ${JSON.stringify(body)}`);
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${count} published: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async peakRss() {
      return { api: await peakRss(api.child.pid), worker: await peakRss(worker?.child.pid) };
    },
    async stop() {
      agent.destroy();
      await Promise.all([stop(api), worker && stop(worker)]);
      await deleteRedisPrefix(prefix);
      await db.drop();
    },
  };

  const t0 = Date.now();
  while ((await fetch(`${url}/health/ready`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() - t0 > 60000 || api.child.exitCode !== null) {
      const why = api.stderr.join('') || JSON.stringify(api.lines.slice(-3));
      await ferry.stop();
      throw new Error(`Ferry did not become ready: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return ferry;
}

/**
 * The median time, over `repeat` runs, from registering one large file until it is published:
 * each run hard-links `src` into the stage under a new name and settles the page cache (untimed)
 * first, so every run copies the same bytes from the same cache state.
 */
export async function medianPublishSeconds(ferry: Ferry, src: string, repeat: number): Promise<number> {
  return medianOf(repeat, (i) => stageColdCopy(ferry, src, i), (i) => publishSeconds(ferry, i));
}

/** Links `src` into the stage as large-<i>.fits and settles the page cache as the tools' runs are (settlePageCache). */
export async function stageColdCopy(ferry: Ferry, src: string, i: number): Promise<void> {
  await fs.link(src, path.join(ferry.stageRoot, `large-${i}.fits`));
  await settlePageCache(`cat ${sq(src)} > /dev/null`);
}

/** Seconds from registering large-<i>.fits to its publication, the (i + 1)-th of this Ferry. */
export async function publishSeconds(ferry: Ferry, i: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  await ferry.register({ data_id: `large-${i}`, data_type: 'image', stage_path: `large-${i}.fits` });
  await ferry.waitPublished(i + 1, { pollMs: SINGLE_POLL_MS });
  return since(t0);
}

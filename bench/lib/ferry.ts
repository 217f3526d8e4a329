import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { apiNodeFlags } from '../../test/support/compose';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { freePort } from '../../test/support/free-port';
import { startNodeProcess, type NodeProcess } from '../../test/support/node-process';
import { deleteRedisPrefix, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/redis';
import { settlePageCache } from './files';
import { peakRss } from './memory';
import { jsonClient, waitPublishedIn, type PublishTarget } from './publish-target';
import { medianOf, since, sq } from './measure';

/**
 * The registry poll's interval where one product's register → published time is measured. A poll
 * every 25 ms added 12.5 ms on average to a figure of well under a second, against tools timed to
 * the millisecond; one every 5 ms adds 2.5 ms, and its queries cost the machine about 3 % of one
 * core (0.17 ms of CPU a poll, client and PostgreSQL, measured here).
 */
export const SINGLE_POLL_MS = 5;

/** A running Ferry: a PublishTarget with its api's address and token, its registry and its data roots. */
export interface Ferry extends PublishTarget {
  url: string;
  token: string;
  /** REDIS_PREFIX: everything under it is deleted when Ferry stops. */
  redisPrefix: string;
  productsRoot: string;
  db: TestDatabase;
  register(product: { data_id: string; data_type: string; stage_path: string }): Promise<void>;
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
  const client = jsonClient(url, token);

  const ferry: Ferry = {
    url, token, redisPrefix: prefix, stageRoot, productsRoot, db,
    pids: { api: api.child.pid, worker: worker?.child.pid },
    request: client.request,
    async register(product) {
      const res = await this.request('POST', '/api/products', product);
      if (res.status !== 201) throw new Error(`register ${product.data_id}: ${res.status} ${JSON.stringify(res.body)}`);
    },
    waitPublished: (count, opts) => waitPublishedIn(db.pool, count, opts),
    async peakRss() {
      return { api: await peakRss(api.child.pid), worker: await peakRss(worker?.child.pid) };
    },
    async stop() {
      client.close();
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

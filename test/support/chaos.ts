import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import type { ProductEventRow, ProductRow } from '../../services/core/repositories/product.types';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestRoots, type TestRoots } from './dirs';
import { testEnv } from './env';
import { startNodeProcess, type NodeProcess } from './node-process';
import { freePort } from './free-port';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres';
import { startPrivateRedis, type PrivateRedis } from './private-redis';
import { listTree, sha256 } from './publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from './redis';
import { waitFor } from './wait-for';
import { killWorker, spawnWorker, type WorkerProcess } from './worker-process';

/** The admin token every chaos api process accepts. */
export { TEST_ADMIN_TOKEN as CHAOS_ADMIN_TOKEN } from './tokens';
import { TEST_ADMIN_TOKEN as CHAOS_ADMIN_TOKEN } from './tokens';

/** One product a chaos test staged: where it is, and what its published bytes must hash to. */
export interface ChaosProduct {
  dataId: string;
  rel: string;
  size: number;
  sha256: string;
}

/** Where a chaos run's processes point: database, Redis and the two roots. */
export interface ChaosTarget {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  roots: TestRoots;
}

/** Settings that make crashes recover quickly: short leases, fast sweeps and backoff. */
export const FAST_RECOVERY: Record<string, string> = {
  PUBLISH_LEASE_SECONDS: '5',
  RECONCILE_INTERVAL_SECONDS: '0.5',
  PUBLISH_BACKOFF_BASE_SECONDS: '0.2',
  PUBLISH_BACKOFF_MAX_SECONDS: '2',
  PUBLISH_MODE: 'move',
};

/** How many times a chaos process that exits before it is ready is started, as a restart policy would. */
const START_ATTEMPTS = 3;

/**
 * Starts a process and waits for its ready line. One that exits by itself before it is ready is
 * started again, with a note saying why, as the stack's restart policy would: these files test what
 * crashes do to products, and a process that once fails to start (a port taken since it was chosen,
 * say) is not such a crash. A process that never gets ready, or fails every attempt, fails the test.
 */
async function startUntilReady(what: string, start: () => Promise<NodeProcess>, ready: (l: Record<string, unknown>) => boolean): Promise<NodeProcess> {
  for (let attempt = 1; ; attempt++) {
    const proc = await start();
    try {
      await proc.waitForLog(ready, 60000);
      return proc;
    } catch (err) {
      const exitedByItself = proc.child.exitCode !== null || proc.child.signalCode !== null;
      proc.kill();
      await proc.exited;
      if (!exitedByItself || attempt >= START_ATTEMPTS) throw err;
      console.warn(`[chaos] ${what} exited before it was ready; starting it again (${attempt + 1} of ${START_ATTEMPTS}): ${(err as Error).message}`);
    }
  }
}

/** Spawns `node dist/worker/main.js` against the target and waits until it says it started. */
export function startChaosWorker(t: ChaosTarget, instance: string, extra: Record<string, string> = {}): Promise<WorkerProcess> {
  const env = testEnv({ databaseUrl: t.databaseUrl, redisPrefix: t.redisPrefix, stageRoot: t.roots.stageRoot, productsRoot: t.roots.productsRoot }, {
    FERRY_INSTANCE: instance, METRICS_PORT: '0', LOG_LEVEL: 'info', REDIS_URL: t.redisUrl,
    WORKER_HEARTBEAT_FILE: path.join(t.roots.base, `${instance}.heartbeat`), ...FAST_RECOVERY, ...extra,
  });
  return startUntilReady(`worker ${instance}`, async () => spawnWorker(env), (l) => l.message === 'worker started');
}

/** A running api process (one HTTP process, no cluster) and its base URL. */
export interface ChaosApi {
  proc: NodeProcess;
  base: string;
  stop(): Promise<void>;
}

/** Spawns `node dist/api/main.js` (API_WORKERS=1) against the target and waits until it listens. */
export async function startChaosApi(t: ChaosTarget, instance: string, extra: Record<string, string> = {}): Promise<ChaosApi> {
  let port = 0;
  const proc = await startUntilReady(`api ${instance}`, async () => {
    port = await freePort();
    return startNodeProcess('api/main.js', testEnv(
      { databaseUrl: t.databaseUrl, redisPrefix: t.redisPrefix, stageRoot: t.roots.stageRoot, productsRoot: t.roots.productsRoot },
      {
        PORT: String(port), METRICS_PORT: '0', API_WORKERS: '1', FERRY_ADMIN_TOKEN: CHAOS_ADMIN_TOKEN, FERRY_INSTANCE: instance, REDIS_URL: t.redisUrl,
        LOG_LEVEL: 'info', RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_TOKEN: '1000000', SHUTDOWN_GRACE_SECONDS: '1', ...extra,
      },
    ));
  }, (l) => l.message === 'api listening');
  return {
    proc,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

/** An answer of the api: status and parsed JSON body. */
export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the api with the chaos admin token; a network failure rejects. */
export async function callApi(base: string, method: string, url: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${CHAOS_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsed: text };
  }
  return { status: res.status, body: parsed };
}

/** Registers a staged product through an api; throws on anything but 201/200. */
export async function registerViaApi(base: string, p: ChaosProduct, extra: Record<string, unknown> = {}): Promise<ApiAnswer> {
  const a = await callApi(base, 'POST', '/api/products', { data_id: p.dataId, data_type: 'image', stage_path: p.rel, ...extra });
  if (a.status !== 201 && a.status !== 200) throw new Error(`registering ${p.dataId}: ${a.status} ${JSON.stringify(a.body)}`);
  return a;
}

/**
 * Writes `count` files under STAGE_ROOT/<dir>/, each of a size drawn from [minBytes, maxBytes]
 * with content unique to it, and returns what each must publish as.
 */
export async function stageFiles(stageRoot: string, dir: string, count: number, minBytes: number, maxBytes: number): Promise<ChaosProduct[]> {
  await fs.mkdir(path.join(stageRoot, dir), { recursive: true });
  const out: ChaosProduct[] = [];
  for (let i = 0; i < count; i++) {
    const dataId = `${dir.replace(/[^A-Za-z0-9]/g, '-')}-${String(i).padStart(4, '0')}`;
    const rel = `${dir}/${dataId}.fits`;
    const size = minBytes + Math.floor(Math.random() * (maxBytes - minBytes + 1));
    const content = crypto.randomBytes(size);
    await fs.writeFile(path.join(stageRoot, rel), content);
    out.push({ dataId, rel, size, sha256: sha256(content) });
  }
  return out;
}

/**
 * Polls the products root while a chaos run goes on: every file that appears at a final path must
 * already have its full size (a rename makes it appear whole), and no name appears that is not
 * one of the products (no renamed duplicates, no strays outside the temporary area).
 */
export function watchProductsRoot(productsRoot: string, products: ChaosProduct[], everyMs = 25) {
  const expected = new Map(products.map((p) => [p.rel, p]));
  const complete = new Set<string>();
  const state = { polls: 0, partial: [] as string[], strays: [] as string[] };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const rel of await listTree(productsRoot)) {
        if (rel === '.ferry-tmp' || rel.startsWith('.ferry-tmp/') || rel === '.ferry-data-root' || complete.has(rel)) continue;
        const p = expected.get(rel);
        if (!p) {
          // Parent directories of products are fine; anything else is a stray.
          if (![...expected.keys()].some((k) => k.startsWith(`${rel}/`)) && !state.strays.includes(rel)) state.strays.push(rel);
          continue;
        }
        const st = await fs.stat(path.join(productsRoot, rel)).catch(() => undefined);
        if (!st) continue;
        if (st.size === p.size) complete.add(rel);
        else if (!state.partial.some((x) => x.startsWith(`${rel} `))) state.partial.push(`${rel} (${st.size} of ${p.size} bytes)`);
      }
      state.polls++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    state,
    async stop() {
      stopped = true;
      await loop;
      return state;
    },
  };
}

/** Waits until every product is published (or throws after timeoutMs, listing what is not). */
export async function waitAllPublished(pool: Pool, products: ChaosProduct[], timeoutMs: number): Promise<void> {
  try {
    await waitFor(async () => {
      const r = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM products WHERE status = 'published'`).catch(() => ({ rows: [{ n: -1 }] }));
      return r.rows[0]!.n === products.length;
    }, timeoutMs, 'every product published', 250);
  } catch (err) {
    const r = await pool.query<{ status: string; n: number; errors: string[] }>(
      `SELECT status, count(*)::int AS n, (array_agg(DISTINCT error_class))[1:5] AS errors FROM products GROUP BY status`,
    ).catch(() => ({ rows: [] }));
    throw new Error(`${(err as Error).message}; registry: ${JSON.stringify(r.rows)}`);
  }
}

/**
 * Problems with one product's event log: a broken from→to chain, attempts going backwards, and
 * (unless expectPublished is false) anything but exactly one transition into `published`, last.
 */
export function eventLogProblems(dataId: string, events: ProductEventRow[], expectPublished = true): string[] {
  const problems: string[] = [];
  if (events.length === 0) return [`${dataId}: no events`];
  const first = events[0]!;
  if (first.event !== 'registered' || first.from_status !== null || first.to_status !== 'staging') {
    problems.push(`${dataId}: first event is ${first.event} ${first.from_status}→${first.to_status}, not registered null→staging`);
  }
  for (let i = 1; i < events.length; i++) {
    const prev = events[i - 1]!;
    const e = events[i]!;
    if (e.from_status !== prev.to_status) {
      problems.push(`${dataId}: event ${i} ${e.event} goes from ${e.from_status} but the previous (${prev.event}) left it ${prev.to_status}`);
    }
    // Attempts only grow, except that an operator retry starts a fresh budget.
    if (e.attempt < prev.attempt && prev.event !== 'retry_requested') {
      problems.push(`${dataId}: attempt went back from ${prev.attempt} (${prev.event}) to ${e.attempt} (${e.event})`);
    }
  }
  if (!expectPublished) return problems;
  const published = events.filter((e) => e.event === 'published');
  if (published.length !== 1) problems.push(`${dataId}: ${published.length} published events`);
  const toPublished = events.filter((e) => e.to_status === 'published' && e.from_status !== 'published');
  if (toPublished.length !== 1) problems.push(`${dataId}: ${toPublished.length} transitions into published`);
  const last = events[events.length - 1]!;
  if (last.to_status !== 'published') problems.push(`${dataId}: last event ${last.event} leaves it ${last.to_status}`);
  return problems;
}

/**
 * The end-of-run promise of every chaos test: exactly these products are registered, each
 * `published` once at its own path with the expected checksum (row and bytes on disk), one
 * `published` event each and a consistent event log, the temporary area is empty, and the
 * products root holds nothing else.
 */
export async function assertChaosInvariants(pool: Pool, productsRoot: string, products: ChaosProduct[]): Promise<void> {
  const rows = (await pool.query<ProductRow>('SELECT * FROM products ORDER BY data_id')).rows;
  expect(rows.map((r) => r.data_id)).toEqual(products.map((p) => p.dataId).sort());
  const byId = new Map(products.map((p) => [p.dataId, p]));
  const wrong: string[] = [];
  for (const r of rows) {
    const p = byId.get(r.data_id)!;
    if (r.status !== 'published' || r.checksum_sha256 !== p.sha256 || r.published_path !== p.rel || Number(r.size_bytes) !== p.size || r.lease_token !== null) {
      wrong.push(`${r.data_id}: ${r.status} ${r.published_path} ${r.checksum_sha256} (${r.error_class ?? ''} ${r.publish_error ?? ''})`);
    }
  }
  expect(wrong).toEqual([]);

  const events = (await pool.query<ProductEventRow>('SELECT * FROM product_events ORDER BY product_id, id')).rows;
  const perProduct = new Map<string, ProductEventRow[]>();
  for (const e of events) perProduct.set(e.data_id, [...(perProduct.get(e.data_id) ?? []), e]);
  expect(rows.flatMap((r) => eventLogProblems(r.data_id, perProduct.get(r.data_id) ?? []))).toEqual([]);

  const badBytes: string[] = [];
  for (const p of products) {
    const data = await fs.readFile(path.join(productsRoot, p.rel)).catch(() => undefined);
    if (!data || sha256(data) !== p.sha256) badBytes.push(`${p.rel}: ${data ? `sha256 ${sha256(data)}` : 'missing'}`);
  }
  expect(badBytes).toEqual([]);

  expect(await listTree(path.join(productsRoot, '.ferry-tmp'))).toEqual([]);
  const dirs = new Set(products.flatMap((p) => p.rel.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const rels = new Set(products.map((p) => p.rel));
  const extra = (await listTree(productsRoot)).filter((f) => f !== '.ferry-tmp' && !dirs.has(f) && !rels.has(f));
  expect(extra).toEqual([]);
}

/** What was in hand when the worker was killed: rows publishing and published, entries in the temp area. */
export interface KillSnapshot {
  publishing: number;
  published: number;
  temp: number;
}

/**
 * SIGKILLs the run's worker `kills` times, each after a random 300 ms + up to `spreadMs`, and
 * starts a new one (`<instance>-<k>`, same settings) after each; answers what was in hand at each
 * kill, for the test to prove its kills landed mid-work. The last worker is left running.
 */
export async function killWorkerRepeatedly(
  run: ChaosRun, first: WorkerProcess, o: { kills: number; spreadMs: number; instance: string; env: Record<string, string> },
): Promise<KillSnapshot[]> {
  const snapshots: KillSnapshot[] = [];
  let worker = first;
  for (let k = 1; k <= o.kills; k++) {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * o.spreadMs));
    const counts = await run.db.pool.query<{ publishing: number; published: number }>(
      `SELECT count(*) FILTER (WHERE status = 'publishing')::int AS publishing, count(*) FILTER (WHERE status = 'published')::int AS published FROM products`,
    );
    const temp = (await listTree(path.join(run.roots.productsRoot, '.ferry-tmp'))).length;
    worker.child.kill('SIGKILL');
    if ((await worker.exited) !== 'SIGKILL') throw new Error(`worker ${o.instance} ended before its kill ${k}`);
    snapshots.push({ ...counts.rows[0]!, temp });
    worker = await run.startWorker(`${o.instance}-${k}`, o.env);
  }
  return snapshots;
}

/** One chaos file's world: its own database, roots and Redis prefix, and what it starts in them. */
export interface ChaosRun {
  readonly db: TestDatabase;
  readonly roots: TestRoots;
  readonly target: ChaosTarget;
  /** The private PostgreSQL cluster the database lives in (with `privatePostgres`), for a test to stop. */
  readonly postgres: PrivatePostgres;
  /** The private redis-server (with `privateRedis`), for a test to kill or flush. */
  readonly redis: PrivateRedis;
  /** Starts an api on the run's target; stopped after the file, whatever fails. */
  startApi(instance: string, extra?: Record<string, string>): Promise<ChaosApi>;
  /** Starts a worker on the run's target; killed after the file unless it already exited. */
  startWorker(instance: string, extra?: Record<string, string>): Promise<WorkerProcess>;
  /** Watches the products root for partial or stray entries until stopped (or the file ends). */
  watch(products: ChaosProduct[]): ReturnType<typeof watchProductsRoot>;
}

/** Where a chaos run's dependencies live, and how often it is made afresh. */
export interface ChaosRunOptions {
  /** The database is a private PostgreSQL cluster (own port and directory) instead of one on the shared server. */
  privatePostgres?: boolean;
  /** Redis is a private redis-server instead of a prefix on the shared one. */
  privateRedis?: boolean;
  /** A fresh run for every test (beforeEach/afterEach) instead of one for the file. */
  perTest?: boolean;
}

/** A database in a private cluster, shaped like a test database: dropping it closes the cluster. */
function privateDatabase(pg: PrivatePostgres): TestDatabase {
  const pool = new Pool({ connectionString: pg.url, max: 3 });
  // The cluster is stopped on purpose: an idle client it cuts must not crash the suite.
  pool.on('error', () => undefined);
  return {
    name: 'ferry',
    url: pg.url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await pg.close();
    },
  };
}

/**
 * Sets up a chaos run before the file (or each test) and tears it down after, in the order that
 * leaves nothing behind: watcher, workers, apis, Redis keys or server, database, directories.
 */
export function useChaosRun(opts: ChaosRunOptions = {}): ChaosRun {
  let db: TestDatabase | undefined;
  let roots: TestRoots | undefined;
  let prefix: string | undefined;
  let postgres: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let apis: ChaosApi[] = [];
  let workers: WorkerProcess[] = [];
  let watcher: ReturnType<typeof watchProductsRoot> | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the chaos run is used before its setup ran (or without the option that makes this part)');
    return value;
  };
  const run: ChaosRun = {
    get db() { return ready(db); },
    get roots() { return ready(roots); },
    get postgres() { return ready(postgres); },
    get redis() { return ready(redis); },
    get target() { return { databaseUrl: ready(db).url, redisUrl: redis?.url ?? TEST_REDIS_URL, redisPrefix: ready(prefix), roots: ready(roots) }; },
    async startApi(instance, extra) {
      const api = await startChaosApi(run.target, instance, extra);
      apis.push(api);
      return api;
    },
    async startWorker(instance, extra) {
      const worker = await startChaosWorker(run.target, instance, extra);
      workers.push(worker);
      return worker;
    },
    watch(products) {
      watcher = watchProductsRoot(ready(roots).productsRoot, products);
      return watcher;
    },
  };
  const setUp = async () => {
    if (opts.privatePostgres) {
      postgres = await startPrivatePostgres();
      db = privateDatabase(postgres);
    } else db = await createTestDatabase();
    if (opts.privateRedis) redis = await startPrivateRedis();
    roots = await createTestRoots();
    prefix = testRedisPrefix();
  };
  const tearDown = async () => {
    await watcher?.stop();
    for (const w of workers) await killWorker(w);
    for (const a of apis) await a.stop();
    if (redis) await redis.close();
    else if (prefix) await deleteRedisPrefix(prefix);
    await db?.drop();
    await roots?.cleanup();
    [db, roots, prefix, postgres, redis, watcher, apis, workers] = [undefined, undefined, undefined, undefined, undefined, undefined, [], []];
  };
  if (opts.perTest) {
    beforeEach(setUp);
    afterEach(tearDown);
  } else {
    beforeAll(setUp);
    afterAll(tearDown);
  }
  return run;
}

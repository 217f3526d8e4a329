import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Pool } from 'pg';
import { withTransaction } from '../../services/core/db/transaction';
import { lockBulkStateChanges, type NewProduct } from '../../services/core/repositories/product.repository';
import { recordClaimed, recordPublished, recordRegistered, recordSourceRemoved } from '../../services/core/repositories/product-state';
import type { ProductRow } from '../../services/core/repositories/product.types';
import type { CopyReply, CopyRequest, RemoveRequest } from './floor-copier';

// The floor under the batch path: what registering small products in batches and publishing them
// with fsync costs on this stack (Node, pg, PostgreSQL with Ferry's registry), with none of Ferry
// around it. One process: POST /api/products/batch checks each stage path (one lstat) and writes
// the batch with Ferry's own registration statement; FLOOR_LANES loops claim up to FLOOR_GROUP due
// products with Ferry's group claim, copy them on FLOOR_THREADS threads with synchronous calls
// (floor-copier.ts), commit them with Ferry's group commit, remove the sources and clear their
// markers with Ferry's statement. Everything Ferry adds is left out: the queue (the due products
// are handed from the request to the lanes in memory), lease extensions and the last lease check,
// progress, logs, metrics, the destination locks, the rate limits, validation beyond the types.
// A failure anywhere stops the process: a floor that skips work would measure nothing.

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const stageRoot = env('STAGE_ROOT');
const productsRoot = env('PRODUCTS_ROOT');
const token = Buffer.from(`Bearer ${env('FLOOR_TOKEN')}`);
const GROUP = Number(process.env.FLOOR_GROUP ?? 128);
const LANES = Number(process.env.FLOOR_LANES ?? 4);
const THREADS = Number(process.env.FLOOR_THREADS ?? 2);
const pool = new Pool({ connectionString: env('DATABASE_URL'), max: LANES + 4 });

function die(err: unknown): never {
  process.stderr.write(`floor publisher: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}

/** A copier thread; it answers its messages in the order they came. */
class Copier {
  private readonly thread = new Worker(path.join(__dirname, 'floor-copier.js'));
  private readonly waiting: Array<(reply: { ok?: unknown; error?: string }) => void> = [];

  constructor() {
    this.thread.on('message', (reply: { ok?: unknown; error?: string }) => this.waiting.shift()!(reply));
    this.thread.on('error', die);
  }

  async call<T>(req: CopyRequest | RemoveRequest): Promise<T> {
    const reply = await new Promise<{ ok?: unknown; error?: string }>((resolve) => {
      this.waiting.push(resolve);
      this.thread.postMessage(req);
    });
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply.ok as T;
  }

  stop(): Promise<number> {
    return this.thread.terminate();
  }
}

/** The products registered and not yet claimed, oldest first: the floor's queue, in memory. */
const due: string[] = [];
let dueAt = 0;
const claimed = new Set<string>();
let wake: Array<() => void> = [];

function nextDue(): string | undefined {
  while (dueAt < due.length) {
    const id = due[dueAt++]!;
    if (!claimed.has(id)) return id;
  }
  return undefined;
}

const sizeOf = (rel: string): number | undefined => {
  if (rel.startsWith('/') || rel.split('/').some((p) => p === '..' || p === '.' || p === '')) return undefined;
  const st = fs.lstatSync(path.join(stageRoot, rel), { throwIfNoEntry: false });
  return st?.isFile() ? st.size : undefined;
};

async function registerBatch(body: string): Promise<{ status: number; body: unknown }> {
  const items = (JSON.parse(body) as { products?: unknown }).products;
  if (!Array.isArray(items) || items.length === 0 || items.length > 500) return { status: 400, body: { error: { code: 'validation_failed' } } };
  const products: NewProduct[] = [];
  for (const p of items as Array<Record<string, unknown>>) {
    const size = typeof p.stage_path === 'string' ? sizeOf(p.stage_path) : undefined;
    if (typeof p.data_id !== 'string' || typeof p.data_type !== 'string' || size === undefined) {
      return { status: 400, body: { error: { code: 'validation_failed' } } };
    }
    products.push({
      data_id: p.data_id, data_type: p.data_type, stage_path: p.stage_path as string, destination_path: `${p.data_type}/${p.data_id}`,
      kind: 'file', size_bytes: size, file_count: 1, expected_sha256: null, metadata: {}, due: true,
    });
  }
  const rows = await withTransaction(pool, async (tx) => {
    await lockBulkStateChanges(tx);
    return recordRegistered(tx, products);
  });
  const created = rows.filter((r) => r !== undefined);
  for (const r of created) due.push(r.data_id);
  for (const w of wake.splice(0)) w();
  return { status: 200, body: { created: created.length } };
}

/** One lane: claim a group, copy it, commit it, remove its sources; again while products are due. */
async function lane(i: number, copier: Copier): Promise<never> {
  const tmpDir = path.join(productsRoot, `.floor-tmp-${i}`);
  fs.mkdirSync(tmpDir, { recursive: true });
  for (;;) {
    const dataId = nextDue();
    if (dataId === undefined) {
      await new Promise<void>((resolve) => wake.push(resolve));
      continue;
    }
    const started = Date.now();
    const rows: ProductRow[] = await withTransaction(pool, async (tx) => {
      await lockBulkStateChanges(tx);
      return recordClaimed(tx, { group: { dataId, dueBy: new Date(), maxBytes: 4 * 2 ** 20, limit: GROUP } }, { owner: 'floor', seconds: 300 });
    });
    if (rows.length === 0) continue;
    for (const r of rows) claimed.add(r.data_id);
    const finalDir = path.join(productsRoot, rows[0]!.data_type);
    fs.mkdirSync(finalDir, { recursive: true });
    const reply = await copier.call<CopyReply>({
      op: 'copy', stageRoot, tmpDir, finalDir,
      items: rows.map((r) => ({ source: r.stage_path, name: path.basename(r.destination_path) })),
    });
    const commits = rows.map((r, k) => {
      const got = reply[k]!;
      if ('error' in got) throw new Error(`${r.data_id}: ${got.error}`);
      return {
        id: r.id, token: r.lease_token!, attempt: r.publish_attempts,
        fields: { published_path: r.destination_path, size_bytes: got.size, file_count: 1, checksum_sha256: got.sha256, manifest: null, source_cleanup_pending: true },
      };
    });
    const committed = await withTransaction(pool, async (tx) => {
      await lockBulkStateChanges(tx);
      return recordPublished(tx, commits, { durationMs: Date.now() - started, worker: 'floor' });
    });
    if (committed.length !== rows.length) throw new Error('a lease was lost in a floor with one publisher');
    await copier.call<boolean>({ op: 'remove', stageRoot, sources: committed.map((r) => r.stage_path) });
    await recordSourceRemoved(pool, committed.map((r) => r.id), { worker: 'floor' });
  }
}

const copiers = Array.from({ length: THREADS }, () => new Copier());
for (let i = 0; i < LANES; i++) lane(i, copiers[i % THREADS]!).catch(die);

const server = http.createServer((req, res) => {
  const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const auth = Buffer.from(req.headers.authorization ?? '');
  if (auth.length !== token.length || !crypto.timingSafeEqual(auth, token)) {
    req.resume();
    answer(401, { error: { code: 'unauthorized' } });
    return;
  }
  if (req.method !== 'POST' || req.url !== '/api/products/batch') {
    req.resume();
    answer(404, { error: { code: 'not_found' } });
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    registerBatch(Buffer.concat(chunks).toString('utf8')).then((r) => answer(r.status, r.body), die);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => {
  wake = [];
  server.close();
  void Promise.all([...copiers.map((c) => c.stop()), pool.end()]).then(() => process.exit(0));
});

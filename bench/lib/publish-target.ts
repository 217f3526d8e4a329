import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { Pool } from 'pg';
import { createTestDatabase } from '../../test/support/database';
import { startBaseline, stopBaseline } from './baseline';
import { peakRss } from './memory';

/** A JSON answer: its status and parsed body. */
export type JsonAnswer = { status: number; body: Record<string, unknown> };

/**
 * A JSON client for the load generator, with the bearer token. The load generator shares the two
 * cores with what it measures, so it must cost as little as it can: node:http with kept-alive
 * connections spends about a third of the CPU per request that fetch does here
 * (docs/performance.md, ninth pass).
 */
export function jsonClient(url: string, token: string): { request(method: string, p: string, body?: unknown): Promise<JsonAnswer>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
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
  return {
    async request(method, p, body) {
      const res = await send(method, p, body === undefined ? undefined : JSON.stringify(body));
      return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
    },
    close: () => agent.destroy(),
  };
}

/**
 * Waits until `count` products are published in the registry behind `pool`, polling every
 * `pollMs` (25 by default). Straight from the registry's trigger-kept counts: polling an API
 * endpoint every 25 ms would spend a good part of the two cores on the observer. A failed product
 * ends the wait with an error.
 */
export async function waitPublishedIn(pool: Pool, count: number, { pollMs = 25, timeoutMs = 900000 } = {}): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const res = await pool.query<{ status: string; n: number }>(
      `SELECT status::text AS status, sum(count)::bigint AS n FROM product_status_counts WHERE status IN ('published', 'failed') GROUP BY status`,
    );
    const body = Object.fromEntries(res.rows.map((r) => [r.status, Number(r.n)]));
    if ((body.published ?? 0) >= count) return;
    if ((body.failed ?? 0) > 0) throw new Error(`publishes failed: ${JSON.stringify(body)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${count} published: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** What the small part registers products with and waits on: a Ferry, or the floor publisher. */
export interface PublishTarget {
  stageRoot: string;
  /**
   * The processes whose CPU a row reports: a Ferry's api and worker (the worker's undefined when it
   * was not started; an api's cluster workers are not counted: the bench runs one process), the
   * floor's one process as the worker.
   */
  pids: { api?: number; worker?: number };
  request(method: string, p: string, body?: unknown): Promise<JsonAnswer>;
  /**
   * Waits until `count` products are published, polling the registry every `pollMs` (25 by
   * default; SINGLE_POLL_MS where one product's time is measured).
   */
  waitPublished(count: number, opts?: { pollMs?: number; timeoutMs?: number }): Promise<void>;
  peakRss(): Promise<{ api?: number; worker?: number }>;
  stop(): Promise<void>;
}

/**
 * The floor publisher (floor-publisher.ts) on a registry of its own (Ferry's migrated schema), with
 * its data roots under workDir: the batch endpoint and group publishing with none of Ferry around them.
 */
export async function startFloorPublisher(workDir: string): Promise<PublishTarget> {
  const stageRoot = path.join(workDir, 'stage');
  const productsRoot = path.join(workDir, 'products');
  await fs.mkdir(stageRoot, { recursive: true });
  await fs.mkdir(productsRoot, { recursive: true });
  const db = await createTestDatabase();
  const token = crypto.randomBytes(32).toString('hex');
  const floor = await startBaseline('floor-publisher.js', { DATABASE_URL: db.url, STAGE_ROOT: stageRoot, PRODUCTS_ROOT: productsRoot, FLOOR_TOKEN: token })
    .catch(async (err: unknown) => {
      await db.drop();
      throw err;
    });
  const client = jsonClient(`http://127.0.0.1:${floor.port}`, token);
  return {
    stageRoot,
    pids: { worker: floor.child.pid },
    request: client.request,
    waitPublished: (count, opts) => waitPublishedIn(db.pool, count, opts),
    peakRss: async () => ({ worker: await peakRss(floor.child.pid) }),
    async stop() {
      client.close();
      await stopBaseline(floor);
      await db.drop();
    },
  };
}

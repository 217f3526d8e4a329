import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { freePort } from './free-port';

/**
 * A redis-server of the test's own (random loopback port, own directory, no persistence), so a
 * chaos test can kill, restart or flush it without touching the shared Redis on 6379.
 */
export interface PrivateRedis {
  port: number;
  url: string;
  dir: string;
  /** SIGKILLs the server (everything in it is lost: no RDB, no AOF). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
  /** FLUSHALL on this private server only. */
  flushAll(): Promise<void>;
  /** Kills it and removes its directory. */
  close(): Promise<void>;
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new IORedis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`private redis at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private redis-server (noeviction, as Ferry requires) and waits until it answers. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-chaos-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await waitForPing(url, 10000);
  }

  async function kill(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url,
    dir,
    kill,
    start,
    async flushAll() {
      const client = new IORedis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async close() {
      await kill();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

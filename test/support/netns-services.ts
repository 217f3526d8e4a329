import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { migrate } from '../../services/core/db/migrate';
import type { NetLab } from './netns-lab';
import { PG_BIN } from './private-postgres';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/**
 * A PostgreSQL server on one lab host: it listens on the host's lab address (for Ferry's
 * processes on the other hosts) and on a Unix socket in its directory (for the test itself,
 * which stays outside the lab: a socket path crosses network namespaces).
 */
export interface NetPostgres {
  /** What Ferry's processes use: postgres://postgres@<address>:5432/ferry. */
  url: string;
  /** What the test uses: the same database through the socket. */
  socketUrl: string;
  close(): Promise<void>;
}

/** initdb, trust for the lab subnet, start inside the host's namespace, create and migrate `ferry`. */
export async function startNetPostgres(lab: NetLab, host: string, address: string): Promise<NetPostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-netns-pg-'));
  await run('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  // initdb and postgres refuse root: run them as the postgres user (inside the namespace when prefixed).
  const asPostgres = (prefix: string[], cmd: string, args: string[]) => {
    const argv = [...prefix, 'runuser', '-u', 'postgres', '--', cmd, ...args];
    return run(argv[0]!, argv.slice(1), { cwd: '/' });
  };
  await asPostgres([], path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const subnet = `${address.split('.').slice(0, 3).join('.')}.0/24`;
  await fs.appendFile(path.join(data, 'pg_hba.conf'), `host all all ${subnet} trust\n`);
  const options = `-p 5432 -k ${dir} -c listen_addresses=${address} -c fsync=off -c max_connections=100`;
  await asPostgres(lab.prefix(host), path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  const socketUrl = `postgres://postgres@${encodeURIComponent(dir)}:5432/ferry`;
  const admin = new Client({ connectionString: `postgres://postgres@${encodeURIComponent(dir)}:5432/postgres` });
  await admin.connect();
  try {
    await admin.query('CREATE DATABASE ferry');
  } finally {
    await admin.end();
  }
  await migrate({ databaseUrl: socketUrl });
  return {
    url: `postgres://postgres@${address}:5432/ferry`,
    socketUrl,
    async close() {
      await asPostgres([], path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server on one lab host (no persistence, noeviction as Ferry requires; no protected mode: clients come from other hosts' 127.88.0.x). */
export interface NetRedis {
  url: string;
  close(): Promise<void>;
}

/** Starts redis-server inside the host's namespace on its lab address and a socket for the test. */
export async function startNetRedis(lab: NetLab, host: string, address: string): Promise<NetRedis> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-netns-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const argv = [...lab.prefix(host), 'redis-server', '--port', '6379', '--bind', address, '--unixsocket', socket, '--save', '',
    '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(async () => {
    const c = new IORedis({ path: socket, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  }, 10000, 'redis in its namespace answers', 50);
  return {
    url: `redis://${address}:6379`,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A client host's TCP forwarder: the test (outside the lab) talks HTTP to a Unix socket, and a
 * small Node program on the client host carries each connection over the lab network to target.
 */
export interface NetForwarder {
  socket: string;
  close(): Promise<void>;
}

const FORWARDER = `
const net = require('node:net');
const [socket, host, port] = process.argv.slice(1);
net.createServer((c) => {
  const t = net.connect(Number(port), host);
  c.pipe(t).pipe(c);
  c.on('error', () => t.destroy());
  t.on('error', () => c.destroy());
}).listen(socket, () => process.stdout.write('listening\\n'));
`;

/** Starts the forwarder on `host`, listening on a socket in `dir`, to target:port. */
export async function startNetForwarder(lab: NetLab, host: string, dir: string, target: string, port: number): Promise<NetForwarder> {
  const socket = path.join(dir, `forward-${lab.id}.sock`);
  const argv = [...lab.prefix(host), process.execPath, '-e', FORWARDER, socket, target, String(port)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the forwarder did not start within 10 s')), 10000);
    child.stdout!.once('data', () => { clearTimeout(t); resolve(); });
  });
  return {
    socket,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await fs.rm(socket, { force: true });
    },
  };
}

/** One HTTP request through a Unix socket; resolves with status and parsed JSON body. */
export function httpViaSocket(
  socket: string, method: string, url: string, headers: Record<string, string>, body?: unknown, timeoutMs = 20000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      socketPath: socket, method, path: url, timeout: timeoutMs,
      headers: { ...headers, ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { unparsed: text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

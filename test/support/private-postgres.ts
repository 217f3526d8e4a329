import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { migrate } from '../../services/core/db/migrate';
import { freePort } from './free-port';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server binaries (initdb, pg_ctl). */
export const PG_BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of the test's own (random loopback port, own data directory, trust auth),
 * so a chaos test can stop and start it without touching the shared server on 5432.
 */
export interface PrivatePostgres {
  port: number;
  /** URL of the migrated `ferry` database. */
  url: string;
  dir: string;
  /** pg_ctl stop -m fast: every connection is cut and new ones are refused. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster (immediate) and removes its directory. */
  close(): Promise<void>;
}

/** initdb and postgres refuse to run as root: run them as the postgres OS user then. */
function asServerUser(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: '/' });
  return run(cmd, args);
}

/** True when this machine can host a private cluster (the binaries exist). */
export async function canRunPrivatePostgres(): Promise<boolean> {
  return fs.access(path.join(PG_BIN, 'initdb')).then(() => true, () => false);
}

/** initdb + start on a free port, then creates and migrates the `ferry` database. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-chaos-pg-'));
  if (process.getuid?.() === 0) await run('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  // fsync off: durability of this throw-away cluster is not what the tests measure.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  await asServerUser(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);

  const start = async () => {
    await asServerUser(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  };
  const stopWith = async (mode: 'fast' | 'immediate') => {
    await asServerUser(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
  };
  await start();
  const admin = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    await admin.query('CREATE DATABASE ferry');
  } finally {
    await admin.end();
  }
  const url = `postgres://postgres@127.0.0.1:${port}/ferry`;
  await migrate({ databaseUrl: url });
  let stopped = false;
  return {
    port,
    url,
    dir,
    async stop() {
      await stopWith('fast');
      stopped = true;
    },
    async start() {
      await start();
      stopped = false;
    },
    async close() {
      if (!stopped) await stopWith('immediate').catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

import fs from 'node:fs';
import type { CommandLine } from './run-command';

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

/**
 * Where the registry lives and how its client tools are run:
 * - native: the tools on this machine, connection from DATABASE_URL (turned into PG* variables so a
 *   password never shows in `ps`) or from PG* variables already set;
 * - compose: the tools inside the stack's postgres container (`docker compose exec -T postgres ...`),
 *   which always match the server's major version and need no published port.
 */
export type PgTarget =
  | { mode: 'native'; env: NodeJS.ProcessEnv; database: string }
  | { mode: 'compose'; env: NodeJS.ProcessEnv; compose: string[]; service: string; database: string };

/** PG* variables equivalent to a postgres:// URL. */
export function urlToPgEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {};
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname).replace(/^\[|\]$/g, '');
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (db) env.PGDATABASE = db;
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const host = u.searchParams.get('host');
  if (host) env.PGHOST = host;
  return env;
}

/**
 * A native target from an environment: DATABASE_URL wins over PG* variables; a password may come
 * from DATABASE_PASSWORD_FILE (the Docker secret the services use) when the URL carries none.
 */
export function nativeTarget(env: NodeJS.ProcessEnv): PgTarget {
  const pg = env.DATABASE_URL ? urlToPgEnv(env.DATABASE_URL) : {};
  const merged: NodeJS.ProcessEnv = { ...env, ...pg };
  if (!merged.PGPASSWORD && env.DATABASE_PASSWORD_FILE) merged.PGPASSWORD = fs.readFileSync(env.DATABASE_PASSWORD_FILE, 'utf8').trim();
  delete merged.DATABASE_URL;
  delete merged.DATABASE_PASSWORD_FILE;
  const database = merged.PGDATABASE ?? merged.PGUSER ?? merged.USER ?? 'postgres';
  return { mode: 'native', env: merged, database };
}

// Inside the official postgres image, local socket connections as POSTGRES_USER need no password.
const IN_CONTAINER = 'PGUSER="${POSTGRES_USER:-postgres}" PGDATABASE="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" exec "$@"';

/**
 * The command line for one client tool against a database of the target (its own database unless
 * database names another, e.g. a scratch database or `postgres` for CREATE/DROP DATABASE).
 */
export function pgCommand(target: PgTarget, tool: PgTool, args: string[], database?: string): CommandLine {
  const db = database ?? target.database;
  // pg_restore only connects when given -d; --list reads the archive alone.
  const dbArgs = tool === 'pg_restore' && args.includes('--list') ? [] : ['-d', db];
  if (target.mode === 'native') return { cmd: tool, args: [...dbArgs, ...args] };
  const [cmd, ...rest] = target.compose;
  return {
    cmd: cmd!,
    args: [...rest, 'exec', '-T', target.service, 'sh', '-c', IN_CONTAINER, 'sh', tool, ...dbArgs, ...args],
  };
}

/** A target pointing at another database on the same server. */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  return { ...target, database };
}

/** How a tool reads an archive: by path natively, through stdin inside the container. */
export function archiveInput(target: PgTarget, file: string): { args: string[]; stdinFile?: string } {
  return target.mode === 'native' ? { args: [file] } : { args: [], stdinFile: file };
}

/** A postgres:// URL for a native target's database (for node-pg-migrate, which takes a URL). */
export function targetUrl(target: PgTarget, database = target.database): string {
  const e = target.env;
  const host = e.PGHOST ?? '127.0.0.1';
  const u = new URL('postgres://placeholder');
  const socket = host.startsWith('/');
  u.hostname = socket ? 'localhost' : host;
  if (e.PGPORT) u.port = e.PGPORT;
  if (e.PGUSER) u.username = encodeURIComponent(e.PGUSER);
  if (e.PGPASSWORD) u.password = encodeURIComponent(e.PGPASSWORD);
  u.pathname = `/${encodeURIComponent(database)}`;
  if (socket) u.searchParams.set('host', host);
  if (e.PGSSLMODE) u.searchParams.set('sslmode', e.PGSSLMODE);
  return u.toString();
}

import fs from 'node:fs';
import { UsageError } from './cli-error';
import { ApiClient } from './http/api-client';
import type { HttpTarget } from './http/http-request';

/** Where ferryctl writes; tests and the entry point pass process streams or buffers. */
export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** True when stderr is a terminal: a progress bar there; plain lines on stdout otherwise. */
  isTTY: boolean;
}

/** Everything a command needs from outside: environment, output, clock, and the process for signals. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  io: CliIo;
  now(): Date;
  /** Emits SIGINT/SIGTERM for `watch`; the entry point passes process. */
  signals: NodeJS.EventEmitter;
}

/** The options every command accepts (defined on the root program). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
  timeout?: number;
  retryFor?: number;
}

/** Where ferryctl looks without --url or FERRY_URL: the api's default port on this host. */
export const DEFAULT_URL = 'http://127.0.0.1:8000';

function readFileOrFail(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The token from --token, --token-file, FERRY_TOKEN or FERRY_TOKEN_FILE (first found wins), or undefined. */
export function resolveToken(opts: GlobalOptions, env: CliContext['env']): string | undefined {
  if (opts.token) return opts.token;
  if (opts.tokenFile) return readFileOrFail(opts.tokenFile, 'token file').toString('utf8').trim();
  if (env.FERRY_TOKEN) return env.FERRY_TOKEN;
  if (env.FERRY_TOKEN_FILE) return readFileOrFail(env.FERRY_TOKEN_FILE, 'FERRY_TOKEN_FILE').toString('utf8').trim();
  return undefined;
}

/** Resolves URL, token, CA and timeout from flags first, then the environment. */
export function resolveTarget(opts: GlobalOptions, env: CliContext['env'], requireToken = true): HttpTarget {
  const baseUrl = opts.url ?? env.FERRY_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new UsageError(`--url/FERRY_URL is not a URL: ${baseUrl}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url/FERRY_URL must be http:// or https://, got ${baseUrl}`);
  }
  const token = resolveToken(opts, env);
  if (requireToken && !token) {
    throw new UsageError('no API token: pass --token, or set FERRY_TOKEN or FERRY_TOKEN_FILE');
  }
  const caFile = opts.ca ?? env.FERRY_CA;
  const ca = caFile ? readFileOrFail(caFile, 'CA file') : undefined;
  const timeoutSeconds = opts.timeout ?? 30;
  return { baseUrl, token, ca, timeoutMs: timeoutSeconds * 1000, retryForMs: resolveRetryFor(opts, env) * 1000 };
}

/** How long a request keeps retrying 429s and unavailable answers: --retry-for, FERRY_RETRY_SECONDS, default 120 s. */
function resolveRetryFor(opts: GlobalOptions, env: CliContext['env']): number {
  if (opts.retryFor !== undefined) return opts.retryFor;
  const raw = env.FERRY_RETRY_SECONDS;
  if (raw === undefined || raw === '') return 120;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`FERRY_RETRY_SECONDS must be a number of seconds ≥ 0, got "${raw}"`);
  return v;
}

/** An API client for the command's resolved options. */
export function clientFor(opts: GlobalOptions, ctx: CliContext, requireToken = true): ApiClient {
  return new ApiClient(resolveTarget(opts, ctx.env, requireToken));
}

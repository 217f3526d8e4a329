import { PassThrough } from 'node:stream';
import type { Express } from 'express';
import { createApiDeps, closeApiDeps, type ApiDeps } from '../../services/api/api-deps';
import { createApp } from '../../services/api/app';
import { loadConfig, type Config } from '../../services/core/config';
import { createLogger } from '../../services/core/logging/create-logger';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestRoots, type TestRoots } from './dirs';
import { testEnv } from './env';
import { deleteRedisPrefix, testRedisPrefix } from './redis';

/** The bootstrap admin token the instances below are configured with. */
export { TEST_ADMIN_TOKEN as INSTANCE_ADMIN_TOKEN } from './tokens';
import { TEST_ADMIN_TOKEN as INSTANCE_ADMIN_TOKEN } from './tokens';

/** An in-process api (createApp, no listener) on its own database, Redis prefix and roots, with its log lines captured. */
export interface ApiInstance {
  app: Express;
  deps: ApiDeps;
  config: Config;
  db: TestDatabase;
  roots: TestRoots;
  redisPrefix: string;
  /** Every JSON log line written so far, parsed. */
  logs: Record<string, unknown>[];
  /** Another app on the same database, prefix and roots (a second replica). */
  replica(): { app: Express; deps: ApiDeps; logs: Record<string, unknown>[] };
  close(): Promise<void>;
}

function build(config: Config) {
  const logs: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger({ service: 'ferry-api', level: config.log.level, stream });
  const deps = createApiDeps(config, logger);
  return { app: createApp(deps), deps, logs };
}

/**
 * Starts an api instance for a test file. `env` overrides testEnv(); `databaseUrl` points the api
 * at another address of the test database (a TCP proxy) while tests still use db.pool directly.
 */
export async function startApiInstance(opts: { env?: Record<string, string>; databaseUrl?: (db: TestDatabase) => string; redisUrl?: string } = {}): Promise<ApiInstance> {
  const db = await createTestDatabase();
  const roots = await createTestRoots();
  const redisPrefix = testRedisPrefix();
  const env = testEnv(
    { databaseUrl: opts.databaseUrl ? opts.databaseUrl(db) : db.url, redisPrefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
    { FERRY_ADMIN_TOKEN: INSTANCE_ADMIN_TOKEN, LOG_LEVEL: 'info', ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}), ...opts.env },
  );
  const config = loadConfig('api', env);
  const main = build(config);
  const replicas: ApiDeps[] = [];
  return {
    ...main,
    config,
    db,
    roots,
    redisPrefix,
    replica() {
      const r = build(config);
      replicas.push(r.deps);
      return r;
    },
    async close() {
      for (const d of [main.deps, ...replicas]) await closeApiDeps(d);
      await deleteRedisPrefix(redisPrefix);
      await db.drop();
      await roots.cleanup();
    },
  };
}

/** `Authorization: Bearer <token>` as a header object. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

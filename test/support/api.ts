import { PassThrough } from 'node:stream';
import type { Express } from 'express';
import { closeApiDeps, createApiDeps, type ApiDeps } from '../../services/api/api-deps';
import { createApp } from '../../services/api/app';
import { loadConfig } from '../../services/core/config';
import type { Config } from '../../services/core/config';
import { createLogger } from '../../services/core/logging/create-logger';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestRoots, type TestRoots } from './dirs';
import { testEnv } from './env';
import { deleteRedisPrefix, testRedisPrefix } from './redis';

/** The bootstrap admin token every test app accepts (FERRY_ADMIN_TOKEN; at least 32 characters). */
export const TEST_ADMIN_TOKEN = 'ferry-test-admin-token-0123456789abcdef';

/** `Authorization: Bearer <token>` as a header object for supertest's .set(). */
export function authHeader(token: string = TEST_ADMIN_TOKEN): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

export interface TestApi {
  app: Express;
  deps: ApiDeps;
  config: Config;
  db: TestDatabase;
  roots: TestRoots;
  redisPrefix: string;
  /** Everything the app logged, one JSON object per line. */
  logs(): Record<string, unknown>[];
  /** Closes connections, drops the database, deletes the Redis prefix and the directories. */
  close(): Promise<void>;
}

/**
 * A ready app on its own database (migrated), Redis prefix and temporary roots, with
 * TEST_ADMIN_TOKEN as the bootstrap admin token. `env` overrides any variable.
 */
export async function createTestApi(opts: { env?: Record<string, string> } = {}): Promise<TestApi> {
  const [db, roots] = await Promise.all([createTestDatabase(), createTestRoots()]);
  const redisPrefix = testRedisPrefix();
  const config = loadConfig(
    'api',
    testEnv(
      { databaseUrl: db.url, redisPrefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot },
      { FERRY_ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: 'info', ...opts.env },
    ),
  );
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const logger = createLogger({ service: 'ferry-api-test', level: config.log.level, stream });
  const deps = createApiDeps(config, logger);
  return {
    app: createApp(deps),
    deps,
    config,
    db,
    roots,
    redisPrefix,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await closeApiDeps(deps);
      await Promise.all([db.drop(), deleteRedisPrefix(redisPrefix), roots.cleanup()]);
    },
  };
}

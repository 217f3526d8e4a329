import type { Express } from 'express';
import type { ApiDeps } from '../../services/api/api-deps';
import type { Config } from '../../services/core/config';
import { startApiInstance } from './api-instance';
import type { TestDatabase } from './database';
import type { TestRoots } from './dirs';

export { authHeader, TEST_ADMIN_TOKEN } from './tokens';

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
 * TEST_ADMIN_TOKEN as the bootstrap admin token. `env` overrides any variable. The same in-process
 * api as startApiInstance (api-instance.ts), with its log lines behind a function.
 */
export async function createTestApi(opts: { env?: Record<string, string> } = {}): Promise<TestApi> {
  const api = await startApiInstance({ env: opts.env });
  return {
    app: api.app,
    deps: api.deps,
    config: api.config,
    db: api.db,
    roots: api.roots,
    redisPrefix: api.redisPrefix,
    logs: () => [...api.logs],
    close: () => api.close(),
  };
}

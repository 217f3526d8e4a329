import { startApiInstance, type ApiInstance } from './api-instance';

export { authHeader, TEST_ADMIN_TOKEN } from './tokens';

/** An in-process api (see ApiInstance), its log lines read through logs(). */
export type TestApi = Omit<ApiInstance, 'logs' | 'replica'> & {
  /** Everything the app logged, one JSON object per line. */
  logs(): Record<string, unknown>[];
};

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

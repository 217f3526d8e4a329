import { loadConfig } from '../../services/core/config';
import type { PublishingDeps } from '../../services/core/domain/publishing/publishing.types';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestRoots, type TestRoots } from './dirs';
import { testEnv } from './env';

/** Worker settings for in-process publishing: retries due at once, leases short enough to lapse within a test. */
const WORKER_SETTINGS = { PUBLISH_BACKOFF_BASE_SECONDS: '0', PUBLISH_LEASE_SECONDS: '5', FERRY_INSTANCE: 'test-worker' };

/** A database for the file and fresh roots for each test, with the worker's deps over them. */
export interface PublishingTest {
  readonly db: TestDatabase;
  readonly roots: TestRoots;
  /** The worker's deps; its config from WORKER_SETTINGS, then the file's settings, then `extra`. */
  deps(extra?: Record<string, string>): PublishingDeps;
}

/**
 * For tests that call the publishing domain in process: creates the database before the file's
 * first test (dropped after its last) and a stage root and products root before each test
 * (removed after it), so no test sees another's files.
 */
export function usePublishingTest(settings: Record<string, string> = {}): PublishingTest {
  let db: TestDatabase | undefined;
  let roots: TestRoots | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the publishing test is used before its setup ran');
    return value;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());
  beforeEach(async () => {
    roots = await createTestRoots();
  });
  afterEach(() => roots?.cleanup());
  return {
    get db() { return ready(db); },
    get roots() { return ready(roots); },
    deps(extra = {}) {
      const { url, pool } = ready(db);
      const { stageRoot, productsRoot } = ready(roots);
      const env = testEnv({ databaseUrl: url, redisPrefix: 'unused', stageRoot, productsRoot }, { ...WORKER_SETTINGS, ...settings, ...extra });
      return { pool, config: loadConfig('worker', env) };
    },
  };
}

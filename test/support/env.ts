import { TEST_REDIS_URL } from './redis';

/** A complete, valid environment for a Ferry process under test; override what a test needs. */
export function testEnv(opts: { databaseUrl: string; redisPrefix: string; stageRoot: string; productsRoot: string }, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: opts.redisPrefix,
    STAGE_ROOT: opts.stageRoot,
    PRODUCTS_ROOT: opts.productsRoot,
    PRODUCT_TYPES: 'image,mosaic,caltable,ms',
    PUBLISH_FREE_SPACE_MARGIN_MB: '1',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    METRICS_HOST: '127.0.0.1',
    ...extra,
  };
}

import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/** Roles that read the configuration; some defaults depend on the role (the metrics port). */
export type ConfigRole = 'api' | 'worker' | 'migrate' | 'healthcheck';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const absolutePath = z
  .string()
  .min(1)
  .refine((p) => path.isAbsolute(p), 'must be an absolute path')
  .transform((p) => path.resolve(p));
/** Marks a default computed from the machine it runs on, so generated rules leave it out. */
export const HOST_DEFAULT = { hostDefault: true } as const;
const logLevel = z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']);

/** Every environment variable Ferry reads, with its default. Secrets are resolved from *_FILE before this runs. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  FERRY_INSTANCE: z.string().min(1).max(100).default(os.hostname()).meta(HOST_DEFAULT),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DATABASE_PASSWORD: z.string().min(1).optional(),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600000).default(30000),

  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (at most 64)')
    .default('ferry'),

  STAGE_ROOT: absolutePath,
  PRODUCTS_ROOT: absolutePath,
  REQUIRE_DATA_ROOT_MARKER: bool.default(false),
  PRODUCT_TYPES: z
    .string()
    .default('image,mosaic,caltable,ms')
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9_-]{1,64}$/, 'types are lower-case [a-z0-9_-]')).min(1)),
  // The product types file (docs/product-types.md); unset = PRODUCT_TYPES are opaque, unchecked types.
  PRODUCT_TYPES_CONFIG: absolutePath.optional(),
  // Most products one POST /api/products/batch may register (one transaction; larger batches are refused with 413),
  // and most concurrent single registrations written together in one transaction.
  REGISTER_BATCH_MAX: int(1, 5000).default(500),

  PUBLISH_MODE: z.enum(['move', 'copy']).default('move'),
  PUBLISH_MAX_ATTEMPTS: int(1, 100).default(5),
  PUBLISH_CONCURRENCY: int(1, 64).default(8),
  PUBLISH_LEASE_SECONDS: int(5, 3600).default(60),
  PUBLISH_BACKOFF_BASE_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  PUBLISH_BACKOFF_MAX_SECONDS: z.coerce.number().min(0).max(86400).default(900),
  // Products of at most this many bytes are published in groups (one claim, one durability step, one
  // commit); 0 = never. 1 MiB: up to about that size a product's own claim, commit and fsyncs cost
  // more than copying and hashing its bytes, so sharing them pays; beyond a few MiB the copy is the
  // larger part. It also bounds what one group holds copied but not yet committed (64 MiB at the
  // default group size): the work a crash or partition sends back, and its first member's wait.
  PUBLISH_GROUP_MAX_BYTES: int(0, 1_073_741_824).default(1024 * 1024),
  // Most products one group takes.
  PUBLISH_GROUP_SIZE: int(1, 1000).default(64),
  PUBLISH_FREE_SPACE_MARGIN_MB: int(0, 10_000_000).default(1024),
  // Files of at least this many MiB are written around the page cache (O_DIRECT, where the file
  // system takes it); 0 = never. Below a few tens of MiB the cache costs little and direct writes
  // would wait on the disk one by one.
  PUBLISH_DIRECT_IO_MIN_MB: int(0, 10_000_000).default(64),
  // Mode bits a published file or directory never keeps (octal): setuid, setgid, sticky, group/other write.
  PUBLISH_MODE_DROP_BITS: z
    .string()
    .regex(/^0?[0-7]{1,4}$/, 'an octal mode such as 7022')
    .default('7022')
    .transform((s) => parseInt(s, 8)),
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(86400).default(60),
  // Bandwidth shared by all copies of one worker process (0 = unlimited); a setting changed at run time overrides it.
  PUBLISH_MAX_BYTES_PER_SEC: int(0, 1_000_000_000_000).default(0),
  // How often a worker re-reads the run-time controls (bandwidth setting).
  PUBLISH_CONTROL_REFRESH_SECONDS: z.coerce.number().min(0.1).max(300).default(5),
  // Below this many products with an outcome in the window, the success rate reads "not enough data".
  SUCCESS_RATE_MIN_PRODUCTS: int(1, 1_000_000).default(20),
  // Test-only: a folder where tests arm pauses at fixed moments of a publish; refused when NODE_ENV=production.
  PUBLISH_TEST_HOOK_DIR: absolutePath.optional(),
  WORKER_HEARTBEAT_FILE: z.string().default(path.join(os.tmpdir(), 'ferry-worker.heartbeat')).meta(HOST_DEFAULT),
  WORKER_HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(300).default(5),
  WORKER_HEARTBEAT_STALE_SECONDS: z.coerce.number().min(1).max(3600).default(30),

  HOST: z.string().default('0.0.0.0'),
  PORT: int(1, 65535).default(8000),
  METRICS_HOST: z.string().default('0.0.0.0'),
  METRICS_PORT: int(0, 65535).optional(),
  API_WORKERS: int(1, 256).default(Math.max(1, os.availableParallelism())).meta(HOST_DEFAULT),
  TRUST_PROXY: z.string().default('loopback, uniquelocal'),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 3600).default(60),
  RATE_LIMIT_PER_IP: int(1, 1_000_000).default(600),
  RATE_LIMIT_PER_TOKEN: int(1, 1_000_000).default(1200),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(600).default(25),

  FERRY_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),

  // The operator console (/console): session length, sign-in limit, and how the operator's host names the data roots.
  CONSOLE_SESSION_HOURS: z.coerce.number().min(0.01).max(720).default(12),
  CONSOLE_SIGNIN_PER_WINDOW: int(1, 100_000).default(10),
  CONSOLE_SIGNIN_WINDOW_SECONDS: int(1, 86400).default(300),
  CONSOLE_STAGE_HOST_PATH: z.string().min(1).optional(),
  CONSOLE_PRODUCTS_HOST_PATH: z.string().min(1).optional(),
  // Empty (as compose passes an unset variable) means no Grafana links.
  CONSOLE_GRAFANA_URL: z.union([z.literal('').transform(() => undefined), z.url()]).optional(),
  LOG_LEVEL: logLevel.default('info'),
});

export type Env = z.infer<typeof envSchema>;

/** Variables that hold secrets: each may instead be given as a path in NAME_FILE. */
export const SECRET_VARIABLES = ['DATABASE_URL', 'DATABASE_PASSWORD', 'REDIS_URL', 'REDIS_PASSWORD', 'FERRY_ADMIN_TOKEN'] as const;

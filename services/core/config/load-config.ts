import fs from 'node:fs';
import { ConfigError } from '../errors/config-error';
import { version } from '../version';
import type { Config } from './config';
import { loadProductTypes, type ProductTypesResult } from './product-types-file';
import { envSchema, SECRET_VARIABLES, type ConfigRole, type Env } from './env-schema';

const DEFAULT_METRICS_PORT: Record<ConfigRole, number> = { api: 9464, worker: 9465, migrate: 0, healthcheck: 0 };

/**
 * Replaces each NAME_FILE with the file's contents as NAME, as Docker secrets expect. An empty
 * variable counts as unset (its default applies), as it does for secrets here, for
 * deploy/validate-env.mjs and for compose: docker-compose.prod.yml passes the operator's value of
 * each variable whose default it keeps through untouched, empty or not.
 */
function resolveSecretFiles(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`);
      continue;
    }
    try {
      out[name] = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return out;
}

/** Puts a separately supplied password into a connection URL. */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

function shape(e: Env, role: ConfigRole, productTypes: ProductTypesResult): Config {
  return {
    role,
    env: e.NODE_ENV,
    instance: e.FERRY_INSTANCE,
    version,
    database: {
      url: withPassword(e.DATABASE_URL, e.DATABASE_PASSWORD),
      poolMax: e.DATABASE_POOL_MAX,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: withPassword(e.REDIS_URL, e.REDIS_PASSWORD), prefix: e.REDIS_PREFIX },
    paths: { stageRoot: e.STAGE_ROOT, productsRoot: e.PRODUCTS_ROOT, requireMarker: e.REQUIRE_DATA_ROOT_MARKER },
    products: { types: productTypes.types, definitions: productTypes.definitions, batchMax: e.REGISTER_BATCH_MAX },
    publish: {
      mode: e.PUBLISH_MODE,
      maxAttempts: e.PUBLISH_MAX_ATTEMPTS,
      concurrency: e.PUBLISH_CONCURRENCY,
      groupMaxBytes: e.PUBLISH_GROUP_MAX_BYTES,
      groupSize: e.PUBLISH_GROUP_SIZE,
      leaseSeconds: e.PUBLISH_LEASE_SECONDS,
      backoffBaseSeconds: e.PUBLISH_BACKOFF_BASE_SECONDS,
      backoffMaxSeconds: e.PUBLISH_BACKOFF_MAX_SECONDS,
      freeSpaceMarginBytes: e.PUBLISH_FREE_SPACE_MARGIN_MB * 1024 * 1024,
      directMinBytes: e.PUBLISH_DIRECT_IO_MIN_MB * 1024 * 1024,
      reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
      maxBytesPerSec: e.PUBLISH_MAX_BYTES_PER_SEC,
      controlRefreshSeconds: e.PUBLISH_CONTROL_REFRESH_SECONDS,
      successRateMinProducts: e.SUCCESS_RATE_MIN_PRODUCTS,
      dropModeBits: e.PUBLISH_MODE_DROP_BITS,
      testHookDir: e.PUBLISH_TEST_HOOK_DIR,
    },
    heartbeat: {
      file: e.WORKER_HEARTBEAT_FILE,
      intervalSeconds: e.WORKER_HEARTBEAT_INTERVAL_SECONDS,
      staleSeconds: e.WORKER_HEARTBEAT_STALE_SECONDS,
    },
    http: {
      host: e.HOST,
      port: e.PORT,
      workers: e.API_WORKERS,
      trustProxy: e.TRUST_PROXY,
      requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
      rateLimit: { windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS, perIp: e.RATE_LIMIT_PER_IP, perToken: e.RATE_LIMIT_PER_TOKEN },
    },
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT ?? DEFAULT_METRICS_PORT[role] },
    shutdown: { graceMs: e.SHUTDOWN_GRACE_SECONDS * 1000 },
    auth: { adminToken: e.FERRY_ADMIN_TOKEN },
    console: {
      sessionMs: Math.round(e.CONSOLE_SESSION_HOURS * 3_600_000),
      signIn: { perWindow: e.CONSOLE_SIGNIN_PER_WINDOW, windowSeconds: e.CONSOLE_SIGNIN_WINDOW_SECONDS },
      hostPaths: { stage: e.CONSOLE_STAGE_HOST_PATH ?? e.STAGE_ROOT, products: e.CONSOLE_PRODUCTS_HOST_PATH ?? e.PRODUCTS_ROOT },
      grafanaUrl: e.CONSOLE_GRAFANA_URL?.replace(/\/+$/, ''),
    },
    log: { level: e.LOG_LEVEL },
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Validates the environment once and returns a frozen Config.
 * Throws a ConfigError that lists every problem, one per line, so an operator fixes them in one pass.
 */
export function loadConfig(role: ConfigRole, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const resolved = resolveSecretFiles(env, problems);
  const parsed = envSchema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.') || '(environment)';
      const message = issue.code === 'invalid_type' && resolved[name] === undefined ? 'is required' : issue.message;
      problems.push(`${name}: ${message}`);
    }
  }
  if (parsed.success && parsed.data.STAGE_ROOT === parsed.data.PRODUCTS_ROOT) {
    problems.push('PRODUCTS_ROOT: must differ from STAGE_ROOT');
  }
  if (parsed.success && parsed.data.NODE_ENV === 'production' && parsed.data.PUBLISH_TEST_HOOK_DIR !== undefined) {
    problems.push('PUBLISH_TEST_HOOK_DIR: test-only; unset it (NODE_ENV is production)');
  }
  const productTypes = parsed.success
    ? loadProductTypes(parsed.data.PRODUCT_TYPES_CONFIG, parsed.data.PRODUCT_TYPES, resolved.PRODUCT_TYPES !== undefined, problems)
    : undefined;
  if (problems.length > 0 || !parsed.success || !productTypes) throw new ConfigError(problems);
  return deepFreeze(shape(parsed.data, role, productTypes));
}

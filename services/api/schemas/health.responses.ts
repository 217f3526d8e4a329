import { z } from 'zod';

// The JSON the health and system-figure routes answer with, declared once (see products.responses.ts):
// the OpenAPI document is generated from these schemas and the routes are typed by them.

const dateTime = z.iso.datetime();
const count = z.number().int();
const percent = z.number();
const errorBody = z.strictObject({ code: z.string(), message: z.string() });

/** One dependency check; `error` is a short, secret-free reason. */
export const checkResultSchema = z.strictObject({
  status: z.enum(['ok', 'error']),
  latency_ms: z.number().optional(),
  error: z.string().optional(),
});
export type CheckResultResponse = z.infer<typeof checkResultSchema>;

/** The migrations check names the migrations not applied yet (when it could read them). */
export const migrationsCheckSchema = checkResultSchema.extend({ pending: z.array(z.string()).optional() });

/** Disk use of one data root. */
export const diskUsageSchema = z.strictObject({
  path: z.string(),
  total: count,
  used: count,
  free: count,
  percent,
  level: z.enum(['ok', 'warning', 'critical']),
});

/** Host memory in bytes and percent used. */
export const memoryUsageSchema = z.strictObject({ total: count, used: count, free: count, percent });

/** GET /health/live. */
export const liveResponseSchema = z.strictObject({ status: z.literal('ok') });
export type LiveResponse = z.infer<typeof liveResponseSchema>;

const readyChecks = z.strictObject({ postgres: checkResultSchema, redis: checkResultSchema, migrations: migrationsCheckSchema });

/** GET /health/ready: 200. */
export const readyResponseSchema = z.strictObject({ status: z.literal('ready'), checks: readyChecks });
export type ReadyResponse = z.infer<typeof readyResponseSchema>;

/** GET /health/ready: 503, naming what failed. */
export const notReadyResponseSchema = z.strictObject({ status: z.literal('not_ready'), checks: readyChecks, error: errorBody });
export type NotReadyResponse = z.infer<typeof notReadyResponseSchema>;

/** GET /health/startup: 200. */
export const startedResponseSchema = z.strictObject({
  status: z.literal('started'),
  checks: z.strictObject({ configuration: z.strictObject({ status: z.literal('ok') }), migrations: z.strictObject({ status: z.literal('ok') }) }),
});
export type StartedResponse = z.infer<typeof startedResponseSchema>;

/** GET /health/startup: 503 until the schema reaches head. */
export const startingResponseSchema = z.strictObject({
  status: z.literal('starting'),
  checks: z.strictObject({ migrations: migrationsCheckSchema }),
  error: errorBody,
});
export type StartingResponse = z.infer<typeof startingResponseSchema>;

/** GET /health/detailed (admin): 200 healthy or degraded, 503 unhealthy. */
export const detailedHealthResponseSchema = z.strictObject({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  version: z.string(),
  instance: z.string(),
  timestamp: dateTime,
  uptime_seconds: count,
  checks: z.strictObject({
    postgres: checkResultSchema.extend({ pool: z.strictObject({ total: count, idle: count, waiting: count, max: count }) }),
    redis: checkResultSchema.extend({
      used_memory_bytes: count.optional(),
      maxmemory_bytes: count.optional(),
      maxmemory_policy: z.string().optional(),
      eviction_safe: z.boolean().optional().describe('true only with maxmemory-policy noeviction'),
    }),
    migrations: migrationsCheckSchema,
    queue: z.strictObject({ status: z.enum(['ok', 'error']), counts: z.record(z.string(), count).optional(), error: z.string().optional() }),
    disks: z.strictObject({
      stage_root: z.union([diskUsageSchema, z.strictObject({ path: z.string(), level: z.literal('critical'), error: z.string() })]),
      products_root: z.union([diskUsageSchema, z.strictObject({ path: z.string(), level: z.literal('critical'), error: z.string() })]),
    }),
  }),
  process: z.strictObject({ pid: count, rss: count, heap_used: count, heap_total: count, external: count, uptime_seconds: count }),
  system: z.strictObject({ cpu_percent: percent, memory: memoryUsageSchema, load_average: z.array(z.number()) }),
});
export type DetailedHealthResponse = z.infer<typeof detailedHealthResponseSchema>;

/** GET /health: a compact summary; `degraded` (still 200) when the database is unreachable. */
export const healthSummaryResponseSchema = z.strictObject({
  status: z.enum(['healthy', 'degraded']),
  service: z.literal('ferry-api'),
  version: z.string(),
  timestamp: dateTime,
  system: z.strictObject({
    cpu_percent: percent,
    memory_percent: percent,
    disk_usage: z.strictObject({ total: count, used: count, free: count, percent }).describe('PRODUCTS_ROOT; zeros when unreadable'),
  }),
  database: z.enum(['connected', 'disconnected']),
});
export type HealthSummaryResponse = z.infer<typeof healthSummaryResponseSchema>;

/** GET /api/metrics/system. */
export const systemMetricsResponseSchema = z.strictObject({
  timestamp: dateTime,
  cpu: z.strictObject({ percent, cores: count, load_average: z.array(z.number()) }),
  memory: memoryUsageSchema,
  disks: z.strictObject({ stage_root: diskUsageSchema, products_root: diskUsageSchema }),
});
export type SystemMetricsResponse = z.infer<typeof systemMetricsResponseSchema>;

import os from 'node:os';
import { diskUsage, memoryUsage, processStats, type DiskUsage } from '../../core/system/system-stats';
import { checkMigrations, checkPostgres, checkRedis, poolStats, queueCounts, redisMemory } from './dependency-checks';
import type { DetailedHealthResponse } from '../schemas/health.responses';
import type { HealthDeps } from './health-deps';

export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';

async function disk(dir: string): Promise<DiskUsage | { path: string; level: 'critical'; error: string }> {
  try {
    return await diskUsage(dir);
  } catch (err) {
    return { path: dir, level: 'critical', error: (err as NodeJS.ErrnoException).code ?? 'unreadable' };
  }
}

/**
 * The operator's full report. unhealthy: Postgres or Redis unreachable, migrations pending, or a
 * data root critical (≥ 90 %) or unreadable. degraded: a data root at warning (≥ 80 %), Redis
 * with an evicting maxmemory-policy, callers waiting for a pool client, or queue counts unreadable.
 */
export async function detailedHealth(deps: HealthDeps): Promise<DetailedHealthResponse> {
  const [postgres, redis, migrations, stage, products, cpu] = await Promise.all([
    checkPostgres(deps.pool),
    checkRedis(deps.redis),
    checkMigrations(deps.pool),
    disk(deps.config.paths.stageRoot),
    disk(deps.config.paths.productsRoot),
    deps.cpu(),
  ]);
  const redisInfo = redis.status === 'ok' ? await redisMemory(deps.redis).catch(() => undefined) : undefined;
  let queue: { status: 'ok' | 'error'; counts?: Record<string, number>; error?: string } = { status: 'error', error: 'no queue configured' };
  if (deps.queue && redis.status === 'ok') {
    queue = await queueCounts(deps.queue).then(
      (counts) => ({ status: 'ok' as const, counts }),
      (err: unknown) => ({ status: 'error' as const, error: (err as Error).message }),
    );
  }
  const pool = poolStats(deps.pool, deps.config.database.poolMax);
  const levels = [stage.level, products.level];

  let status: OverallStatus = 'healthy';
  if (postgres.status !== 'ok' || redis.status !== 'ok' || migrations.status !== 'ok' || levels.includes('critical')) {
    status = 'unhealthy';
  } else if (levels.includes('warning') || redisInfo?.eviction_safe === false || pool.waiting > 0 || queue.status !== 'ok') {
    status = 'degraded';
  }
  return {
    status,
    version: deps.config.version,
    instance: deps.config.instance,
    timestamp: new Date().toISOString(),
    uptime_seconds: Math.round(process.uptime()),
    checks: {
      postgres: { ...postgres, pool },
      redis: { ...redis, ...(redisInfo ?? {}) },
      migrations,
      queue,
      disks: { stage_root: stage, products_root: products },
    },
    process: { pid: process.pid, ...processStats() },
    system: { cpu_percent: cpu, memory: memoryUsage(), load_average: os.loadavg() },
  };
}

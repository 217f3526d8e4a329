import { Router } from 'express';
import { diskUsage, memoryUsage } from '../../core/system/system-stats';
import { requireScope } from '../middleware/require-scope';
import type {
  HealthSummaryResponse, LiveResponse, NotReadyResponse, ReadyResponse, StartedResponse, StartingResponse,
} from '../schemas/health.responses';
import { checkMigrations, checkPostgres, checkRedis } from './dependency-checks';
import { detailedHealth } from './detailed-health';
import type { HealthDeps } from './health-deps';

/**
 * Health endpoints: no token (except /health/detailed: admin), cheap, never cached (the app sets
 * Cache-Control: no-store on every response). Mounted before authentication and rate limiting.
 */
export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  let started = false;

  // The process answers; no dependency is consulted, so an outage never gets the api restarted.
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' } satisfies LiveResponse);
  });

  router.get('/health/ready', async (_req, res) => {
    const [postgres, redis, migrations] = await Promise.all([checkPostgres(deps.pool), checkRedis(deps.redis), checkMigrations(deps.pool)]);
    const checks = { postgres, redis, migrations };
    const failed = Object.entries(checks).filter(([, c]) => c.status !== 'ok');
    if (failed.length === 0) {
      res.json({ status: 'ready', checks } satisfies ReadyResponse);
      return;
    }
    const message = `not ready: ${failed.map(([name, c]) => `${name} (${c.error ?? 'failed'})`).join('; ')}`;
    res.status(503).json({ status: 'not_ready', checks, error: { code: 'not_ready', message } } satisfies NotReadyResponse);
  });

  // Start-up is done once configuration loaded (it did, or the process would not run) and the
  // schema reached head; after the first success it stays done.
  router.get('/health/startup', async (_req, res) => {
    if (!started) {
      const migrations = await checkMigrations(deps.pool);
      if (migrations.status !== 'ok') {
        res.status(503).json({
          status: 'starting', checks: { migrations }, error: { code: 'not_started', message: `not started: migrations (${migrations.error})` },
        } satisfies StartingResponse);
        return;
      }
      started = true;
    }
    res.json({ status: 'started', checks: { configuration: { status: 'ok' }, migrations: { status: 'ok' } } } satisfies StartedResponse);
  });

  router.get('/health/detailed', deps.authenticate, requireScope('admin'), async (_req, res) => {
    const report = await detailedHealth(deps);
    res.status(report.status === 'unhealthy' ? 503 : 200).json(report);
  });

  // A compact summary; `degraded` (still 200) when the database is unreachable.
  router.get('/health', async (_req, res) => {
    const [postgres, cpu, disk] = await Promise.all([
      checkPostgres(deps.pool),
      deps.cpu(),
      diskUsage(deps.config.paths.productsRoot).catch(() => undefined),
    ]);
    res.json({
      status: postgres.status === 'ok' ? 'healthy' : 'degraded',
      service: 'ferry-api',
      version: deps.config.version,
      timestamp: new Date().toISOString(),
      system: {
        cpu_percent: cpu,
        memory_percent: memoryUsage().percent,
        disk_usage: disk
          ? { total: disk.total, used: disk.used, free: disk.free, percent: disk.percent }
          : { total: 0, used: 0, free: 0, percent: 0 },
      },
      database: postgres.status === 'ok' ? 'connected' : 'disconnected',
    } satisfies HealthSummaryResponse);
  });

  return router;
}

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import { workerHeartbeatKey, workerHeartbeatPattern } from '../../jobs/heartbeat-key';
import type { PublishJobData } from '../../jobs/publish-queue';

export interface ServiceStatus {
  queue: { waiting: number; active: number; delayed: number; failed: number };
  /** The newest worker heartbeat across instances; null when no worker has beaten (or all keys expired). */
  worker_heartbeat: { instance: string; at: Date; age_seconds: number } | null;
  timestamp: Date;
}

/** Scans the heartbeat keys (SCAN, never KEYS) and returns the newest. */
async function newestHeartbeat(redis: Redis, prefix: string): Promise<{ instance: string; ms: number } | undefined> {
  const base = workerHeartbeatKey(prefix, '');
  let newest: { instance: string; ms: number } | undefined;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', workerHeartbeatPattern(prefix), 'COUNT', 100);
    cursor = next;
    if (keys.length === 0) continue;
    const values = await redis.mget(...keys);
    keys.forEach((key, i) => {
      const ms = Number(values[i]);
      if (Number.isFinite(ms) && ms > 0 && (!newest || ms > newest.ms)) newest = { instance: key.slice(base.length), ms };
    });
  } while (cursor !== '0');
  return newest;
}

/** Queue depth by state and the worker's newest heartbeat, for GET /api/status. */
export async function getServiceStatus(
  deps: { queue: Queue<PublishJobData>; redis: Redis; config: Pick<Config, 'redis'> },
  now = new Date(),
): Promise<ServiceStatus> {
  const [counts, beat] = await Promise.all([
    deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
    newestHeartbeat(deps.redis, deps.config.redis.prefix),
  ]);
  return {
    queue: { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
    worker_heartbeat: beat
      ? { instance: beat.instance, at: new Date(beat.ms), age_seconds: Math.max(0, Math.round((now.getTime() - beat.ms) / 100) / 10) }
      : null,
    timestamp: now,
  };
}

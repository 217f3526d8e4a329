import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import type { Queryable } from '../../db/pool';
import { workerHeartbeatKey, workerHeartbeatPattern, workerInfoKey } from '../../jobs/heartbeat-key';
import type { PublishJobData } from '../../jobs/publish-queue';
import { listPauses, type PauseRow } from '../../repositories/publishing-control.repository';

/** One copy a worker is running, as its heartbeat reports it. */
export interface WorkerCopy {
  data_id: string;
  data_type: string;
  size_bytes: number;
  copied_bytes: number;
  started_at: string;
  rate_bytes_per_sec: number;
  eta_seconds: number | null;
}

/** One worker instance whose heartbeat has not expired. */
export interface WorkerStatus {
  instance: string;
  last_seen: Date;
  age_seconds: number;
  copies: WorkerCopy[];
  bandwidth_limit_bytes_per_sec: number | null;
}

export interface ServiceStatus {
  queue: { waiting: number; active: number; delayed: number; failed: number };
  /** The newest worker heartbeat across instances; null when no worker has beaten (or all keys expired). */
  worker_heartbeat: { instance: string; at: Date; age_seconds: number } | null;
  /** Every worker with a live heartbeat, oldest heartbeat first (a stuck one shows at the top). */
  workers: WorkerStatus[];
  paused: PauseRow[];
  timestamp: Date;
}

/** Every heartbeat key (SCAN, never KEYS) with its unix ms. */
async function heartbeats(redis: Redis, prefix: string): Promise<{ instance: string; ms: number }[]> {
  const base = workerHeartbeatKey(prefix, '');
  const out: { instance: string; ms: number }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', workerHeartbeatPattern(prefix), 'COUNT', 100);
    cursor = next;
    if (keys.length === 0) continue;
    const values = await redis.mget(...keys);
    keys.forEach((key, i) => {
      const ms = Number(values[i]);
      if (Number.isFinite(ms) && ms > 0) out.push({ instance: key.slice(base.length), ms });
    });
  } while (cursor !== '0');
  return out;
}

function parseInfo(raw: string | null): { copies: WorkerCopy[]; bandwidth: number | null } {
  try {
    const info = raw ? (JSON.parse(raw) as { copies?: WorkerCopy[]; bandwidth_limit_bytes_per_sec?: number }) : {};
    return { copies: Array.isArray(info.copies) ? info.copies : [], bandwidth: info.bandwidth_limit_bytes_per_sec ?? null };
  } catch {
    return { copies: [], bandwidth: null };
  }
}

/** Queue depth by state, every live worker with what it copies (bytes, rate, ETA), and the pauses in force, for GET /api/status. */
export async function getServiceStatus(
  deps: { queue: Queue<PublishJobData>; redis: Redis; pool: Queryable; config: Pick<Config, 'redis'> },
  now = new Date(),
): Promise<ServiceStatus> {
  const prefix = deps.config.redis.prefix;
  const [counts, beats, paused] = await Promise.all([
    deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
    heartbeats(deps.redis, prefix),
    listPauses(deps.pool),
  ]);
  const infos = beats.length ? await deps.redis.mget(...beats.map((b) => workerInfoKey(prefix, b.instance))) : [];
  const age = (ms: number) => Math.max(0, Math.round((now.getTime() - ms) / 100) / 10);
  const workers = beats
    .map((b, i) => {
      const info = parseInfo(infos[i] ?? null);
      return { instance: b.instance, last_seen: new Date(b.ms), age_seconds: age(b.ms), copies: info.copies, bandwidth_limit_bytes_per_sec: info.bandwidth };
    })
    .sort((a, b) => a.last_seen.getTime() - b.last_seen.getTime() || a.instance.localeCompare(b.instance));
  const newest = beats.reduce<{ instance: string; ms: number } | undefined>((n, b) => (!n || b.ms > n.ms ? b : n), undefined);
  return {
    queue: { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
    worker_heartbeat: newest ? { instance: newest.instance, at: new Date(newest.ms), age_seconds: age(newest.ms) } : null,
    workers,
    paused,
    timestamp: now,
  };
}

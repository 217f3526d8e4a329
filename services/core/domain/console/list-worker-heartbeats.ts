import type { Redis } from 'ioredis';
import { workerHeartbeatKey, workerHeartbeatPattern } from '../../jobs/heartbeat-key';

/** One worker's last heartbeat. */
export interface WorkerHeartbeat {
  instance: string;
  at: Date;
  age_seconds: number;
}

/** Every worker whose heartbeat key has not expired, most recently seen first (SCAN, never KEYS). */
export async function listWorkerHeartbeats(redis: Redis, prefix: string, now = Date.now()): Promise<WorkerHeartbeat[]> {
  const base = workerHeartbeatKey(prefix, '');
  const out: WorkerHeartbeat[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', workerHeartbeatPattern(prefix), 'COUNT', 100);
    cursor = next;
    if (keys.length === 0) continue;
    const values = await redis.mget(...keys);
    keys.forEach((key, i) => {
      const ms = Number(values[i]);
      if (Number.isFinite(ms) && ms > 0) out.push({ instance: key.slice(base.length), at: new Date(ms), age_seconds: Math.max(0, Math.round((now - ms) / 100) / 10) });
    });
  } while (cursor !== '0');
  return out.sort((a, b) => b.at.getTime() - a.at.getTime());
}

import type { Pool } from 'pg';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Queryable } from '../../core/db/pool';
import { pendingMigrations } from '../../core/db/migrate';
import { redact } from '../../core/logging/redact';

/** Result of one dependency check; `error` is a short, secret-free reason. */
export interface CheckResult {
  status: 'ok' | 'error';
  latency_ms?: number;
  error?: string;
}

/** A health probe gives a dependency this long before calling it unreachable. */
export const CHECK_TIMEOUT_MS = 2000;

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text = `${e.message ?? String(err)}${e.code && !String(e.message).includes(e.code) ? ` (${e.code})` : ''}`;
  return String(redact(text)).slice(0, 200);
}

async function timed(fn: () => Promise<unknown>, what: string, ms: number): Promise<CheckResult> {
  const start = process.hrtime.bigint();
  try {
    await timeout(fn(), ms, what);
    return { status: 'ok', latency_ms: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100 };
  } catch (err) {
    return { status: 'error', error: reason(err) };
  }
}

/** PostgreSQL answers SELECT 1. */
export function checkPostgres(db: Queryable, ms = CHECK_TIMEOUT_MS): Promise<CheckResult> {
  return timed(() => db.query('SELECT 1'), 'postgres', ms);
}

/** Redis answers PING. */
export function checkRedis(redis: Pick<Redis, 'ping'>, ms = CHECK_TIMEOUT_MS): Promise<CheckResult> {
  return timed(() => redis.ping(), 'redis', ms);
}

/** Every migration shipped with this build has been applied. */
export async function checkMigrations(db: Queryable, ms = CHECK_TIMEOUT_MS): Promise<CheckResult & { pending?: string[] }> {
  try {
    const pending = await timeout(pendingMigrations(db), ms, 'postgres');
    return pending.length === 0 ? { status: 'ok', pending } : { status: 'error', pending, error: `${pending.length} migration(s) pending` };
  } catch (err) {
    return { status: 'error', error: `cannot read migrations: ${reason(err)}` };
  }
}

/** Pool use: open clients, idle ones, and callers waiting for a client. */
export function poolStats(pool: Pick<Pool, 'totalCount' | 'idleCount' | 'waitingCount'>, max: number) {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max };
}

/** Redis memory and eviction policy from INFO memory; Ferry needs `noeviction` (queued jobs must never vanish). */
export async function redisMemory(redis: Pick<Redis, 'info'>, ms = CHECK_TIMEOUT_MS) {
  const text = await timeout(redis.info('memory'), ms, 'redis');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();
  const policy = field('maxmemory_policy') ?? 'unknown';
  return {
    used_memory_bytes: Number(field('used_memory') ?? 0),
    maxmemory_bytes: Number(field('maxmemory') ?? 0),
    maxmemory_policy: policy,
    eviction_safe: policy === 'noeviction',
  };
}

/** Job counts of the publish queue. */
export function queueCounts(queue: Pick<Queue, 'getJobCounts'>, ms = CHECK_TIMEOUT_MS) {
  return timeout(queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'paused'), ms, 'redis');
}

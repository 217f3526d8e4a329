import { Redis } from 'ioredis';
import { Pool } from 'pg';

/**
 * What the floor servers share: a pool on Ferry's database (DATABASE_URL) and one Redis round
 * trip per request that increments a counter with an expiry, as a rate limit shared across
 * replicas needs (one EVALSHA, like the api's limiter, on an auto-pipelined connection like the api's).
 */
export function floorDeps(): { pool: Pool; redis: Redis; hit(): Promise<[number, number]> } {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  redis.defineCommand('hit', {
    numberOfKeys: 1,
    lua: `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return {n, redis.call('PTTL', KEYS[1])}`,
  });
  const key = `${process.env.REDIS_PREFIX ?? 'ferry-bench'}:floor`;
  const call = (redis as unknown as { hit(key: string, ms: number): Promise<[number, number]> }).hit.bind(redis);
  return { pool, redis, hit: () => call(key, 60000) };
}

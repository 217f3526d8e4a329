import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { RateLimitedError } from '../../core/errors';
import type { Logger } from '../../core/logging/create-logger';
import './request-types';

export interface RateLimitOptions {
  redis: Pick<Redis, 'call'>;
  /** REDIS_PREFIX: counters live under `<prefix>:rl:` and are shared by every api replica. */
  prefix: string;
  windowSeconds: number;
  perIp: number;
  perToken: number;
  logger: Logger;
  /** A Redis command that takes longer than this is treated as a store error (the request passes). */
  commandTimeoutMs?: number;
}

/**
 * A RedisStore that reloads its Lua script after any failure: the stock store loads it once at
 * start, so a Redis outage at boot would otherwise disable limiting until a restart.
 */
class RecoveringRedisStore extends RedisStore {
  override async increment(key: string) {
    try {
      return await super.increment(key);
    } catch (err) {
      this.incrementScriptSha = this.loadIncrementScript();
      this.incrementScriptSha.catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Limits requests per token when one was accepted, otherwise per client address (req.ip, which
 * `trust proxy` makes the real client behind nginx). Counters sit in Redis so limits hold across
 * replicas; each request costs one EVALSHA that increments and reads the counter (the api's
 * connection is auto-pipelined, so concurrent requests' counts reach Redis in one write). When
 * Redis is unreachable the request passes: availability over strict limiting.
 */
export function createRateLimit(opts: RateLimitOptions): RequestHandler {
  const timeoutMs = opts.commandTimeoutMs ?? 1000;
  const sendCommand = (...args: string[]): Promise<RedisReply> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const [command, ...rest] = args;
    return Promise.race([opts.redis.call(command ?? '', ...rest) as Promise<RedisReply>, timeout]).finally(() => clearTimeout(timer));
  };
  const store = new RecoveringRedisStore({ sendCommand, prefix: `${opts.prefix}:rl:` });
  return rateLimit({
    windowMs: opts.windowSeconds * 1000,
    limit: (req) => (req.auth ? opts.perToken : opts.perIp),
    // Keyed by the token's identity, not its name: a database token can never share the bootstrap admin's bucket.
    keyGenerator: (req) => (req.auth ? `token:${req.auth.id === undefined ? 'bootstrap' : `id-${req.auth.id}`}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`),
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store,
    passOnStoreError: true,
    logger: {
      error: (err: unknown, msg?: string) => opts.logger.warn(msg ?? 'rate limiter error', { err }),
      warn: (err: unknown, msg?: string) => opts.logger.warn(msg ?? 'rate limiter warning', { err }),
    },
    handler: (req, _res, next) => {
      next(new RateLimitedError(`too many requests for ${req.auth ? `token "${req.auth.name}"` : 'this client address'}; retry after the Retry-After delay`));
    },
  });
}

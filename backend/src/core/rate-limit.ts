import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { errors } from './errors.js';

export interface Limiter {
  /** Takes `points` for `key`; throws a 429 AppError (with Retry-After) when the budget is spent. */
  consume(key: string, points?: number): Promise<void>;
  /** Forgets a key (for example the failed-login count after a successful login). */
  reset(key: string): Promise<void>;
}

/**
 * A fixed-window limiter. With a Redis client the budget is shared by every replica; while Redis
 * is unreachable an in-memory insurance limiter keeps limiting per replica.
 */
export function createLimiter(
  name: string,
  points: number,
  windowMs: number,
  redis?: Redis,
): Limiter {
  const duration = Math.max(1, Math.ceil(windowMs / 1000));
  const memory = new RateLimiterMemory({ keyPrefix: `rl:${name}`, points, duration });
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `collabflow:rl:${name}`,
        points,
        duration,
        insuranceLimiter: memory,
      })
    : memory;
  return {
    async consume(key, n = 1) {
      try {
        await limiter.consume(key, n);
      } catch (res) {
        if (res instanceof RateLimiterRes) {
          throw errors.rateLimited(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
        }
        throw res;
      }
    },
    async reset(key) {
      await limiter.delete(key).catch(() => undefined);
    },
  };
}

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
  /** Gives back one point `consume` took (an attempt that turned out fine). */
  refund(key: string): Promise<void>;
  /** Spends one point without refusing (a failure that already happened); resolves to the points spent in this window. */
  add(key: string): Promise<number>;
  /** Forgets a key (for example the failed-login count after a successful login). */
  reset(key: string): Promise<void>;
}

function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function store(name: string, points: number, durationSeconds: number, redis?: Redis) {
  const memory = new RateLimiterMemory({
    keyPrefix: `rl:${name}`,
    points,
    duration: durationSeconds,
  });
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `collabflow:rl:${name}`,
        points,
        duration: durationSeconds,
        insuranceLimiter: memory,
      })
    : memory;
  return limiter;
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
  const limiter = store(name, points, Math.max(1, Math.ceil(windowMs / 1000)), redis);
  return {
    async consume(key, n = 1) {
      try {
        await limiter.consume(key, n);
      } catch (res) {
        if (res instanceof RateLimiterRes) {
          throw errors.rateLimited(retryAfterSeconds(res.msBeforeNext));
        }
        throw res;
      }
    },
    async refund(key) {
      await limiter.reward(key, 1);
    },
    async add(key) {
      const res = await limiter.penalty(key, 1);
      return res.consumedPoints;
    },
    async reset(key) {
      await limiter.delete(key).catch(() => undefined);
    },
  };
}

/** Keys made to wait: a key on hold is refused until its hold runs out. */
export interface Holds {
  /** Throws a 429 AppError whose Retry-After is what is left of `key`'s hold, if it has one. */
  check(key: string): Promise<void>;
  /** Puts `key` on hold for `ms` (at least a second), replacing a hold it had. */
  hold(key: string, ms: number): Promise<void>;
  reset(key: string): Promise<void>;
}

/** Holds shared by every replica through Redis (in memory per replica while Redis is away). */
export function createHolds(name: string, redis?: Redis): Holds {
  // A held key is stored as "blocked" (points + 1 consumed) for the length of its hold.
  const limiter = store(name, 1, 60, redis);
  return {
    async check(key) {
      const res = await limiter.get(key);
      if (res && res.consumedPoints > 1 && res.msBeforeNext > 0) {
        throw errors.rateLimited(retryAfterSeconds(res.msBeforeNext));
      }
    },
    async hold(key, ms) {
      // block(key, 0) would hold forever: never less than a second.
      await limiter.block(key, retryAfterSeconds(ms));
    },
    async reset(key) {
      await limiter.delete(key).catch(() => undefined);
    },
  };
}

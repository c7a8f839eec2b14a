import mongoose from 'mongoose';
import type { RedisState } from '../core/redis.js';

export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable';
  mongo: 'up' | 'down';
  redis: 'up' | 'down' | 'disabled';
}

async function pingMongo(timeoutMs: number): Promise<boolean> {
  const db = mongoose.connection.db;
  if (!db || mongoose.connection.readyState !== 1) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      db
        .admin()
        .command({ ping: 1 })
        .then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** MongoDB down makes the replica unready (503); Redis down only degrades it (still 200). */
export async function readiness(redisState: () => RedisState | 'disabled'): Promise<Readiness> {
  const mongo = (await pingMongo(1500)) ? 'up' : 'down';
  const r = redisState();
  const redis = r === 'disabled' ? 'disabled' : r === 'up' ? 'up' : 'down';
  const status = mongo === 'down' ? 'unavailable' : redis === 'down' ? 'degraded' : 'ok';
  return { status, mongo, redis };
}

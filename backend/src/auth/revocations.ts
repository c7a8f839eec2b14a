import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';

/**
 * Access tokens that stop working before they expire: a short denylist by token id (`jti`) and
 * by login session (`sid`, the refresh-token family), each entry kept until every token it
 * covers has expired anyway. With Redis the list is shared by every replica; each replica also
 * keeps what it revoked itself in memory, which is all there is without Redis.
 */
export interface Revocations {
  /** Refuses the token with this id until `untilMs` (its expiry), on every replica. */
  revokeToken(jti: string, untilMs: number): Promise<void>;
  /** Refuses every access token issued in this login session until `untilMs`. */
  revokeSession(sid: string, untilMs: number): Promise<void>;
  /** Whether a token with these ids was revoked. */
  isRevoked(ids: { jti?: string; sid?: string }): Promise<boolean>;
}

const PREFIX = 'collabflow:revoked:';

/**
 * While Redis cannot be asked, only this replica's own revocations are known: a token revoked
 * through another replica during the outage still passes here until Redis is back (the
 * alternative, refusing every token, would log everyone out while Redis is away).
 */
export function createRevocations(redis: Redis | undefined, logger: Logger): Revocations {
  const local = new Map<string, number>();
  let lastWarn = 0;
  const sweep = (now: number) => {
    for (const [key, until] of local) if (until <= now) local.delete(key);
  };
  const add = async (key: string, untilMs: number) => {
    const now = Date.now();
    const ttl = Math.ceil(untilMs - now);
    if (ttl <= 0) return;
    if (local.size > 1000) sweep(now);
    local.set(key, untilMs);
    if (!redis) return;
    try {
      await redis.set(PREFIX + key, '1', 'PX', ttl);
    } catch (err) {
      logger.error(
        { err },
        'could not share a token revocation through Redis (kept on this replica)',
      );
    }
  };
  return {
    revokeToken: (jti, untilMs) => add(`jti:${jti}`, untilMs),
    revokeSession: (sid, untilMs) => add(`sid:${sid}`, untilMs),
    async isRevoked({ jti, sid }) {
      const keys = [...(jti ? [`jti:${jti}`] : []), ...(sid ? [`sid:${sid}`] : [])];
      if (keys.length === 0) return false;
      const now = Date.now();
      if (keys.some((k) => (local.get(k) ?? 0) > now)) return true;
      if (!redis) return false;
      try {
        return (await redis.exists(...keys.map((k) => PREFIX + k))) > 0;
      } catch (err) {
        if (now - lastWarn > 10_000) {
          lastWarn = now;
          logger.warn({ err }, 'token denylist unreachable in Redis; checking this replica’s only');
        }
        return false;
      }
    },
  };
}

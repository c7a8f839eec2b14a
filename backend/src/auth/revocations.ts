import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';

/**
 * Access tokens that stop working before they expire: a short denylist by token id (`jti`) and
 * by login session (`sid`, the refresh-token family), and a per-user "not before" cutoff (every
 * token of the user issued before it, after a password change or an account deletion), each
 * entry kept until every token it covers has expired anyway. With Redis the list is shared by
 * every replica; each replica also keeps what it revoked itself in memory, which is all there
 * is without Redis.
 */
export interface Revocations {
  /** Refuses the token with this id until `untilMs` (its expiry), on every replica. */
  revokeToken(jti: string, untilMs: number): Promise<void>;
  /** Refuses every access token issued in this login session until `untilMs`. */
  revokeSession(sid: string, untilMs: number): Promise<void>;
  /**
   * Refuses every access token of the user whose `iat` (seconds) is before `notBefore`
   * (seconds), until `untilMs` (when every such token has expired). A later cutoff wins.
   */
  cutUser(userId: string, notBefore: number, untilMs: number): Promise<void>;
  /** Whether a token with these claims was revoked (by id, session or its user's cutoff). */
  isRevoked(claims: { jti?: string; sid?: string; sub?: string; iat?: number }): Promise<boolean>;
}

const PREFIX = 'collabflow:revoked:';

/** Sets a user's cutoff unless a later one is there; the key lives at least `ttl` ms. */
const CUT_USER = `
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** A token issued before its user's cutoff (or with no `iat` while there is one) is refused. */
function beforeCutoff(iat: number | undefined, cutoff: number): boolean {
  return iat === undefined || iat < cutoff;
}

/**
 * While Redis cannot be asked, only this replica's own revocations are known: a token revoked
 * through another replica during the outage still passes here until Redis is back (the
 * alternative, refusing every token, would log everyone out while Redis is away).
 */
export function createRevocations(redis: Redis | undefined, logger: Logger): Revocations {
  const local = new Map<string, number>();
  /** Per user: the cutoff (seconds) and until when it matters (ms). */
  const cuts = new Map<string, { notBefore: number; until: number }>();
  let lastWarn = 0;
  const sweep = (now: number) => {
    for (const [key, until] of local) if (until <= now) local.delete(key);
    for (const [key, cut] of cuts) if (cut.until <= now) cuts.delete(key);
  };
  const share = async (what: () => Promise<unknown>) => {
    if (!redis) return;
    try {
      await what();
    } catch (err) {
      logger.error(
        { err },
        'could not share a token revocation through Redis (kept on this replica)',
      );
    }
  };
  const add = async (key: string, untilMs: number) => {
    const now = Date.now();
    const ttl = Math.ceil(untilMs - now);
    if (ttl <= 0) return;
    if (local.size + cuts.size > 1000) sweep(now);
    local.set(key, untilMs);
    await share(() => redis!.set(PREFIX + key, '1', 'PX', ttl));
  };
  return {
    revokeToken: (jti, untilMs) => add(`jti:${jti}`, untilMs),
    revokeSession: (sid, untilMs) => add(`sid:${sid}`, untilMs),
    async cutUser(userId, notBefore, untilMs) {
      const now = Date.now();
      const ttl = Math.ceil(untilMs - now);
      if (ttl <= 0) return;
      if (local.size + cuts.size > 1000) sweep(now);
      const known = cuts.get(userId);
      cuts.set(userId, {
        notBefore: Math.max(notBefore, known?.notBefore ?? 0),
        until: Math.max(untilMs, known?.until ?? 0),
      });
      await share(() =>
        redis!.eval(CUT_USER, 1, `${PREFIX}user:${userId}`, String(notBefore), String(ttl)),
      );
    },
    async isRevoked({ jti, sid, sub, iat }) {
      const keys = [...(jti ? [`jti:${jti}`] : []), ...(sid ? [`sid:${sid}`] : [])];
      const now = Date.now();
      if (keys.some((k) => (local.get(k) ?? 0) > now)) return true;
      const cut = sub ? cuts.get(sub) : undefined;
      if (cut && cut.until > now && beforeCutoff(iat, cut.notBefore)) return true;
      if (!redis) return false;
      if (sub) keys.push(`user:${sub}`);
      if (keys.length === 0) return false;
      try {
        // One round trip: the id and session entries exist or not; the user's holds its cutoff.
        const values = await redis.mget(...keys.map((k) => PREFIX + k));
        return values.some((value, i) => {
          if (value === null) return false;
          if (!keys[i]!.startsWith('user:')) return true;
          return beforeCutoff(iat, Number(value));
        });
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

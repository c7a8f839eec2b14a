import type { Redis } from 'ioredis';
import { AppError } from '../core/errors.js';

export type SlotKind = 'socket' | 'sse';

/** What a user was refused when every slot of that kind is taken ([A4]). */
export function tooManyConnections(kind: SlotKind, limit: number): AppError {
  const what = kind === 'socket' ? 'real-time connections (sockets)' : 'event streams (SSE)';
  return new AppError(
    429,
    'too_many_connections',
    `you already have ${limit} ${what} open, the most allowed; close one (another tab or device) and retry`,
    { kind, limit },
  );
}

// Drops expired slots, then takes one unless the user holds `limit` already (a slot that is
// already ours is refreshed). Atomic in Redis: two replicas cannot both take the last slot.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

interface Held {
  kind: SlotKind;
  userId: string;
  connId: string;
}

/**
 * Per-user connection slots, cluster-wide with Redis ([A4]): a sorted set per user and kind of
 * connection ids scored by expiry. This replica refreshes the slots it holds every `refreshMs`;
 * a replica that dies without releasing its slots loses them after `ttlMs`. While Redis is
 * unreachable the count is this replica's own.
 */
export class ConnectionSlots {
  readonly #held = new Map<string, Held>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly ttlMs: number,
    refreshMs: number,
    private readonly prefix = 'collabflow:conns',
  ) {
    this.#timer = setInterval(() => void this.#refresh(), refreshMs);
    this.#timer.unref();
  }

  #key(kind: SlotKind, userId: string) {
    return `${this.prefix}:${kind}:${userId}`;
  }

  #localCount(kind: SlotKind, userId: string): number {
    let n = 0;
    for (const h of this.#held.values()) if (h.kind === kind && h.userId === userId) n++;
    return n;
  }

  /** Takes a slot for the connection; false when the user holds `limit` of that kind already. */
  async acquire(kind: SlotKind, userId: string, connId: string, limit: number): Promise<boolean> {
    const id = `${kind}:${connId}`;
    let ok: boolean;
    if (this.redis) {
      const now = Date.now();
      try {
        const r = await this.redis.eval(
          ACQUIRE,
          1,
          this.#key(kind, userId),
          String(now),
          String(now + this.ttlMs),
          connId,
          String(limit),
          String(this.ttlMs * 2),
        );
        ok = r === 1;
      } catch {
        ok = this.#localCount(kind, userId) < limit; // Redis away: what this replica holds
      }
    } else {
      ok = this.#held.has(id) || this.#localCount(kind, userId) < limit;
    }
    if (ok) this.#held.set(id, { kind, userId, connId });
    return ok;
  }

  /** Gives the slot back (safe to call twice). */
  release(kind: SlotKind, userId: string, connId: string): void {
    if (!this.#held.delete(`${kind}:${connId}`)) return;
    this.redis?.zrem(this.#key(kind, userId), connId).catch(() => undefined);
  }

  async #refresh() {
    if (!this.redis || this.#held.size === 0) return;
    const exp = String(Date.now() + this.ttlMs);
    const multi = this.redis.multi();
    for (const h of this.#held.values()) {
      const key = this.#key(h.kind, h.userId);
      multi.zadd(key, exp, h.connId);
      multi.pexpire(key, this.ttlMs * 2);
    }
    await multi.exec().catch(() => undefined);
  }

  /** Stops refreshing and gives back every slot of this replica. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const held = [...this.#held.values()];
    this.#held.clear();
    if (!this.redis || held.length === 0) return;
    const multi = this.redis.multi();
    for (const h of held) multi.zrem(this.#key(h.kind, h.userId), h.connId);
    await multi.exec().catch(() => undefined);
  }
}

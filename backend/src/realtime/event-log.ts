import type { Redis } from 'ioredis';
import type { AnyDomainEvent } from '@collabflow/shared';

/**
 * The last `capacity` events of each project, so a client that reconnects with its last `seq`
 * gets what it missed. `since` answers null when the gap can no longer be filled (the client
 * must reload the snapshot).
 */
export interface EventLog {
  append(event: AnyDomainEvent): Promise<void>;
  since(projectId: string, sinceSeq: number, currentSeq: number): Promise<AnyDomainEvent[] | null>;
}

/** The events after `sinceSeq` if they are all there, in order, up to `currentSeq`; else null. */
export function contiguousAfter(
  events: AnyDomainEvent[],
  sinceSeq: number,
  currentSeq: number,
): AnyDomainEvent[] | null {
  const wanted = events.filter((e) => e.seq > sinceSeq).sort((a, b) => a.seq - b.seq);
  const unique = wanted.filter((e, i) => i === 0 || e.seq !== wanted[i - 1]?.seq);
  for (let i = 0; i < unique.length; i++) if (unique[i]?.seq !== sinceSeq + 1 + i) return null;
  const last = unique[unique.length - 1]?.seq ?? sinceSeq;
  if (last < currentSeq) return null;
  return unique;
}

export class MemoryEventLog implements EventLog {
  readonly #logs = new Map<string, AnyDomainEvent[]>();
  constructor(private readonly capacity: number) {}

  async append(event: AnyDomainEvent): Promise<void> {
    let log = this.#logs.get(event.projectId);
    if (!log) this.#logs.set(event.projectId, (log = []));
    log.push(event);
    log.sort((a, b) => a.seq - b.seq);
    if (log.length > this.capacity) log.splice(0, log.length - this.capacity);
  }

  async since(
    projectId: string,
    sinceSeq: number,
    currentSeq: number,
  ): Promise<AnyDomainEvent[] | null> {
    if (sinceSeq >= currentSeq) return [];
    return contiguousAfter(this.#logs.get(projectId) ?? [], sinceSeq, currentSeq);
  }
}

/**
 * The log in Redis: a sorted set per project scored by `seq`, trimmed to `capacity`. The write
 * path appends in the same Lua call that advances the counter (projects/write-path.ts), so
 * `append` here is for tools and tests.
 */
export class RedisEventLog implements EventLog {
  constructor(
    private readonly redis: Redis,
    private readonly capacity: number,
    private readonly keyOf: (projectId: string) => string,
    private readonly keepForSeconds = 7 * 86_400,
  ) {}

  async append(event: AnyDomainEvent): Promise<void> {
    const key = this.keyOf(event.projectId);
    await this.redis
      .multi()
      .zadd(key, event.seq, JSON.stringify(event))
      .zremrangebyrank(key, 0, -(this.capacity + 1))
      .expire(key, this.keepForSeconds)
      .exec();
  }

  async since(
    projectId: string,
    sinceSeq: number,
    currentSeq: number,
  ): Promise<AnyDomainEvent[] | null> {
    if (sinceSeq >= currentSeq) return [];
    const raw = await this.redis.zrangebyscore(this.keyOf(projectId), `(${sinceSeq}`, '+inf');
    const events = raw.map((s) => JSON.parse(s) as AnyDomainEvent);
    return contiguousAfter(events, sinceSeq, currentSeq);
  }
}

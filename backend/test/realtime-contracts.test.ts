import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import type { AnyDomainEvent } from '@collabflow/shared';
import { MemoryPresence, RedisPresence, type Presence } from '../src/realtime/presence.js';
import {
  MemoryEventLog,
  RedisEventLog,
  contiguousAfter,
  type EventLog,
} from '../src/realtime/event-log.js';
import { TypingTracker } from '../src/realtime/typing.js';

/**
 * One contract, two implementations: the in-memory presence and event log (single instance,
 * no Redis) and the Redis ones (every replica) must behave the same.
 */
let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.quit();
});

let prefixes = 0;
const uniquePrefix = (what: string) => `test:${what}:${process.pid}:${Date.now()}:${prefixes++}`;

type Clock = { t: number };
const presences: [string, (ttl: number, clock: Clock) => Presence][] = [
  ['MemoryPresence', (ttl, clock) => new MemoryPresence(ttl, () => clock.t)],
  [
    'RedisPresence',
    (ttl, clock) => new RedisPresence(redis, ttl, uniquePrefix('presence'), () => clock.t),
  ],
];

describe.each(presences)('%s', (_name, make) => {
  const P = 'p1';
  const entry = (userId: string, connId: string, projectId = P) => ({ projectId, userId, connId });

  it('shares public profiles between replicas: unknown ids answer null, remembered ones come back', async () => {
    const p = make(10_000, { t: 0 });
    const ada = { id: 'u-ada', name: 'Ada', avatarColor: '#123456' };
    expect(await p.profiles(['u-ada', 'u-bob'])).toEqual([null, null]);
    await p.rememberProfiles([ada]);
    expect(await p.profiles(['u-bob', 'u-ada'])).toEqual([null, ada]);
    expect(await p.profiles([])).toEqual([]);
  });

  it('counts a user with several connections once: first join and last leave only', async () => {
    const clock = { t: 1_000_000 };
    const p = make(10_000, clock);
    expect(await p.join(entry('u1', 'a/1'))).toBe(true);
    expect(await p.join(entry('u1', 'b/2'))).toBe(false);
    expect(await p.join(entry('u1', 'b/3'))).toBe(false);
    expect(await p.join(entry('u2', 'a/4'))).toBe(true);
    expect((await p.online(P)).sort()).toEqual(['u1', 'u2']);
    expect(await p.leave(entry('u1', 'b/2'))).toBe(false);
    expect(await p.leave(entry('u1', 'a/1'))).toBe(false);
    expect(await p.leave(entry('u1', 'b/3'))).toBe(true);
    expect(await p.online(P)).toEqual(['u2']);
  });

  it('a leave for an unknown connection changes nothing and says not-last', async () => {
    const p = make(10_000, { t: 5 });
    expect(await p.join(entry('u1', 'a/1'))).toBe(true);
    expect(await p.leave(entry('u1', 'zz/9'))).toBe(false);
    expect(await p.online(P)).toEqual(['u1']);
  });

  it('rejoining the same connection is not a new arrival', async () => {
    const p = make(10_000, { t: 5 });
    expect(await p.join(entry('u1', 'a/1'))).toBe(true);
    expect(await p.join(entry('u1', 'a/1'))).toBe(false);
  });

  it('keeps projects apart', async () => {
    const p = make(10_000, { t: 5 });
    expect(await p.join(entry('u1', 'a/1', 'x'))).toBe(true);
    expect(await p.join(entry('u1', 'a/1', 'y'))).toBe(true);
    expect(await p.leave(entry('u1', 'a/1', 'x'))).toBe(true);
    expect(await p.online('x')).toEqual([]);
    expect(await p.online('y')).toEqual(['u1']);
  });

  it('expires connections that stop heart-beating; reap reports users whose last connection expired', async () => {
    const clock = { t: 1_000 };
    const p = make(1_000, clock);
    await p.join(entry('u1', 'dead/1'));
    await p.join(entry('u2', 'dead/2'));
    await p.join(entry('u2', 'live/3'));
    clock.t += 600;
    expect(await p.heartbeat([entry('u2', 'live/3')])).toEqual([]);
    clock.t += 600; // dead/* are past their expiry, live/3 is not
    expect((await p.online(P)).sort()).toEqual(['u2']);
    const left = await p.reap();
    expect(left).toEqual([{ projectId: P, userId: 'u1' }]);
    expect(await p.reap()).toEqual([]);
    expect(await p.online(P)).toEqual(['u2']);
  });

  it('a heartbeat for a connection that had expired brings the user back as a new arrival', async () => {
    const clock = { t: 1_000 };
    const p = make(1_000, clock);
    await p.join(entry('u1', 'a/1'));
    clock.t += 5_000;
    expect(await p.online(P)).toEqual([]);
    expect(await p.heartbeat([entry('u1', 'a/1')])).toEqual([{ projectId: P, userId: 'u1' }]);
    expect(await p.online(P)).toEqual(['u1']);
  });
});

const event = (projectId: string, seq: number): AnyDomainEvent => ({
  type: 'task:deleted',
  projectId,
  seq,
  at: new Date(0).toISOString(),
  actor: 'u1',
  data: { taskId: `t${seq}`, deletedBy: 'u1' },
});

const logs: [string, (capacity: number) => EventLog][] = [
  ['MemoryEventLog', (c) => new MemoryEventLog(c)],
  [
    'RedisEventLog',
    (c) => {
      const prefix = uniquePrefix('events');
      return new RedisEventLog(redis, c, (p) => `${prefix}:${p}`);
    },
  ],
];

describe.each(logs)('%s', (_name, make) => {
  it('returns what came after a seq, in order, even when appended out of order', async () => {
    const log = make(100);
    for (const seq of [1, 3, 2, 5, 4]) await log.append(event('p', seq));
    expect((await log.since('p', 2, 5))?.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(await log.since('p', 5, 5)).toEqual([]);
    expect((await log.since('p', 0, 5))?.[0]).toEqual(event('p', 1));
  });

  it('answers null (resync) when the gap is older than the log keeps', async () => {
    const log = make(10);
    for (let seq = 1; seq <= 30; seq++) await log.append(event('p', seq));
    expect(await log.since('p', 5, 30)).toBeNull();
    expect((await log.since('p', 20, 30))?.map((e) => e.seq)).toEqual([
      21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    ]);
  });

  it('answers null when an event in the range was never logged (a hole)', async () => {
    const log = make(100);
    for (const seq of [1, 2, 4]) await log.append(event('p', seq));
    expect(await log.since('p', 1, 4)).toBeNull();
    expect(await log.since('p', 0, 6)).toBeNull();
  });

  it('keeps projects apart', async () => {
    const log = make(100);
    await log.append(event('a', 1));
    await log.append(event('b', 1));
    expect(await log.since('a', 0, 1)).toEqual([event('a', 1)]);
  });
});

describe('contiguousAfter', () => {
  it('drops duplicates and checks continuity up to the current seq', () => {
    const evs = [event('p', 2), event('p', 3), event('p', 3), event('p', 4)];
    expect(contiguousAfter(evs, 1, 4)?.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(contiguousAfter(evs, 1, 5)).toBeNull();
    expect(contiguousAfter(evs, 0, 4)).toBeNull();
  });
});

describe('TypingTracker', () => {
  it('expires a typing state that is not refreshed, and not one that was cleared', async () => {
    const expired: string[] = [];
    const t = new TypingTracker(100, (conn, channel) => expired.push(`${conn}:${channel}`));
    expect(t.set('c1', 'ch', true)).toBe(true);
    expect(t.set('c1', 'ch', true)).toBe(false);
    expect(t.set('c2', 'ch', true)).toBe(true);
    expect(t.set('c2', 'ch', false)).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    expect(expired).toEqual(['c1:ch']);
    t.set('c3', 'x', true);
    t.set('c3', 'y', true);
    expect(t.clear('c3').sort()).toEqual(['x', 'y']);
  });
});

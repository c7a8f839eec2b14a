import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import type { AnyDomainEvent } from '@collabflow/shared';
import {
  DEFAULT_WRITE_OPTIONS,
  LocalSequencer,
  RedisSequencer,
  type Sequencer,
} from '../src/projects/write-path.js';

/**
 * One contract, two implementations ([W1], [W4], [W5]): the project sequencer in the process (one
 * replica, no Redis) and in Redis (Lua scripts, every replica) hand out leases, advance the
 * counter, append to the log and remember what was published the same way.
 */
let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.quit();
});

const OPTIONS = { ...DEFAULT_WRITE_OPTIONS, lockTtlMs: 300, eventLogSize: 3 };
const newProject = () => randomBytes(12).toString('hex');
const event = (projectId: string, seq: number): AnyDomainEvent => ({
  type: 'task:deleted',
  projectId,
  seq,
  at: new Date(0).toISOString(),
  actor: 'u1',
  data: { taskId: `t${seq}`, deletedBy: 'u1' },
});

const sequencers: [string, () => Sequencer][] = [
  ['LocalSequencer', () => new LocalSequencer(OPTIONS)],
  ['RedisSequencer', () => new RedisSequencer(redis, OPTIONS)],
];

describe.each(sequencers)('%s', (_name, make) => {
  it('[W1] one lease per project at a time; other projects are independent', async () => {
    const s = make();
    const [p, q] = [newProject(), newProject()];
    const lease = await s.tryAcquire(p, 't1');
    expect(lease).toMatchObject({ projectId: p, seq: null, dirty: false });
    expect(await s.tryAcquire(p, 't1')).toBeNull();
    expect(await s.tryAcquire(q, 't2')).not.toBeNull();
    expect(await s.commit(lease!, null, null, true)).toBe(true);
    expect(await s.tryAcquire(p, 't1')).not.toBeNull();
  });

  it('[W6] a missing counter is set once; later sets do not move it', async () => {
    const s = make();
    const p = newProject();
    expect(await s.current([p])).toEqual([null]);
    expect(await s.initCounter(p, 5)).toBe(5);
    expect(await s.initCounter(p, 9)).toBe(5);
    expect(await s.current([p, newProject()])).toEqual([5, null]);
  });

  it('[W1] a commit advances the counter, appends to the log and marks the record published', async () => {
    const s = make();
    const p = newProject();
    const lease = (await s.tryAcquire(p, 't1'))!;
    await s.initCounter(p, 0);
    for (const seq of [1, 2, 3, 4])
      expect(await s.commit(lease, event(p, seq), `rec${seq}`, seq === 4)).toBe(true);
    expect(await s.current([p])).toEqual([4]);
    // The log keeps the last `eventLogSize` (3): 1 is gone, so a resume from 0 needs resync.
    expect((await s.log.since(p, 1, 4))?.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(await s.log.since(p, 0, 4)).toBeNull();
    expect(await s.isPublished(p, 'rec3')).toBe(true);
    expect(await s.isPublished(p, 'never')).toBe(false);
    const next = (await s.tryAcquire(p, 't1'))!;
    expect(next).toMatchObject({ seq: 4, dirty: false });
  });

  it('[W4] a commit with a lease that is not the holder changes nothing', async () => {
    const s = make();
    const p = newProject();
    const lease = (await s.tryAcquire(p, 't1'))!;
    await s.initCounter(p, 0);
    const forged = { ...lease, token: 'not-the-holder' };
    expect(await s.commit(forged, event(p, 1), 'rec1', true)).toBe(false);
    expect(await s.current([p])).toEqual([0]);
    expect(await s.log.since(p, 0, 1)).toBeNull();
    expect(await s.isPublished(p, 'rec1')).toBe(false);
    expect(await s.tryAcquire(p, 't1')).toBeNull(); // still held by the real holder
  });

  it('forget drops the counter of a deleted project', async () => {
    const s = make();
    const p = newProject();
    await s.initCounter(p, 7);
    await s.forget(p);
    expect(await s.current([p])).toEqual([null]);
  });
});

describe('RedisSequencer leases', () => {
  it('[W5] a lease whose holder died expires, and the next holder is told (dirty) so it recovers the outbox', async () => {
    const s = new RedisSequencer(redis, OPTIONS);
    const p = newProject();
    const dead = (await s.tryAcquire(p, 'dead'))!;
    expect(dead.dirty).toBe(false);
    expect(await s.tryAcquire(p, 'other')).toBeNull();
    await new Promise((r) => setTimeout(r, OPTIONS.lockTtlMs + 100));
    const next = (await s.tryAcquire(p, 'other'))!;
    expect(next.dirty).toBe(true);
    // The dead holder's late commit is refused; the new holder's release clears the flag.
    expect(await s.commit(dead, event(p, 1), 'late', true)).toBe(false);
    expect(await s.commit(next, null, null, true)).toBe(true);
    expect((await s.tryAcquire(p, 'third'))!.dirty).toBe(false);
  });

  it('[W1] replicas take turns: the first waiter refused is next in line, not the holder coming back', async () => {
    const s = new RedisSequencer(redis, OPTIONS);
    const p = newProject();
    const a = (await s.tryAcquire(p, 'replica-a:1'))!;
    expect(await s.tryAcquire(p, 'replica-b')).toBeNull(); // B waits: next in line
    expect(await s.commit(a, null, null, true)).toBe(true);
    expect(await s.tryAcquire(p, 'replica-a:2')).toBeNull(); // A is back too soon
    const b = await s.tryAcquire(p, 'replica-b');
    expect(b).not.toBeNull();
    expect(await s.commit(b!, null, null, true)).toBe(true);
    // A waiter that stops asking loses its place after a short while.
    expect(await s.tryAcquire(p, 'replica-a:3')).not.toBeNull();
    const q = newProject();
    const holder = (await s.tryAcquire(q, 'h'))!;
    expect(await s.tryAcquire(q, 'gone')).toBeNull();
    await s.commit(holder, null, null, true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.tryAcquire(q, 'h2')).not.toBeNull();
  });

  it('[W1] a kept lease is extended by each commit', async () => {
    const s = new RedisSequencer(redis, OPTIONS);
    const p = newProject();
    const lease = (await s.tryAcquire(p, 't1'))!;
    await s.initCounter(p, 0);
    for (let seq = 1; seq <= 4; seq++) {
      await new Promise((r) => setTimeout(r, OPTIONS.lockTtlMs / 2));
      expect(await s.commit(lease, event(p, seq), null, false)).toBe(true);
    }
    expect(await s.tryAcquire(p, 't1')).toBeNull();
  });
});

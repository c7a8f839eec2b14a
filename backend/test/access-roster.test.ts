import { describe, expect, it } from 'vitest';
import type { AnyDomainEvent, ProjectRole } from '@collabflow/shared';
import { AccessCache } from '../src/projects/access-cache.js';

/**
 * [A1] The access cache loads a project's whole roster on a miss: one read serves every member,
 * concurrent misses share it, and a read that started before an invalidation is never trusted.
 */
const P = 'a'.repeat(24);
const removed = (userId: string): AnyDomainEvent => ({
  type: 'member:removed',
  projectId: P,
  seq: 1,
  at: new Date(0).toISOString(),
  actor: 'owner',
  data: { userId },
});

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AccessCache.roleFromRoster', () => {
  it('[A1] one roster read answers every member and non-member, and concurrent misses share it', async () => {
    const cache = new AccessCache();
    let reads = 0;
    const load = async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      return [
        { userId: 'u1', role: 'owner' as ProjectRole },
        { userId: 'u2', role: 'viewer' as ProjectRole },
      ];
    };
    const roles = await Promise.all(
      ['u1', 'u2', 'u3', 'u1'].map((u) => cache.roleFromRoster(P, u, load)),
    );
    expect(roles).toEqual(['owner', 'viewer', null, 'owner']);
    expect(reads).toBe(1);
    expect(await cache.roleFromRoster(P, 'u2', load)).toBe('viewer');
    expect(await cache.roleFromRoster(P, 'u3', load)).toBeNull();
    expect(reads).toBe(1);
  });

  it('[A1] a roster read that started before a removal is not stored, and later askers read again', async () => {
    const cache = new AccessCache();
    const first = deferred<{ userId: string; role: ProjectRole }[]>();
    let reads = 0;
    const stale = cache.roleFromRoster(P, 'u2', () => {
      reads++;
      return first.promise;
    });
    cache.invalidate(removed('u2')); // u2 removed while the first read is in flight
    const fresh = cache.roleFromRoster(P, 'u2', async () => {
      reads++;
      return [{ userId: 'u1', role: 'owner' as ProjectRole }];
    });
    first.resolve([
      { userId: 'u1', role: 'owner' },
      { userId: 'u2', role: 'member' },
    ]);
    expect(await fresh).toBeNull();
    await stale; // answers what it read, but stores nothing
    expect(reads).toBe(2);
    // The fresh answer was stored: no third read.
    expect(
      await cache.roleFromRoster(P, 'u2', async () => {
        reads++;
        return [];
      }),
    ).toBeNull();
    expect(reads).toBe(2);
  });
});

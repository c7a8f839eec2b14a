/**
 * [A1] Roles come from a per-replica cache that member changes invalidate on every replica, and
 * that never grants access revoked while Redis was down. Real replica processes, real Redis and
 * FerretDB, real WebSocket clients; plus the cache's own rules on a fake loader.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ProjectRole } from '@collabflow/shared';
import { AccessCache } from '../src/projects/access-cache.js';
import { redisProxy } from './helpers/redis-proxy.js';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import {
  call,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';

type User = Awaited<ReturnType<typeof registerUser>>;

function kit() {
  const sockets: Socket[] = [];
  return {
    async open(r: Replica, token: string) {
      const s = socketFor(r.url, token);
      sockets.push(s);
      await connected(s);
      return s;
    },
    closeAll() {
      for (const s of sockets) s.disconnect();
    },
  };
}

/** A project of `owner` with `members` (role member). */
async function projectWith(url: string, owner: User, members: User[]): Promise<string> {
  const api = client(url);
  const p = await api.post('/api/projects', { name: 'Cache board' }, owner.token);
  const projectId = p.body.project.id as string;
  for (const m of members) {
    const r = await api.post(
      `/api/projects/${projectId}/members`,
      { email: m.user.email, role: 'member' },
      owner.token,
    );
    expect(r.status).toBe(201);
  }
  return projectId;
}

/**
 * Polls `seen` on replica `r` until it answers `want`: the change made on the other replica
 * crosses Redis to reach r's cache, which takes milliseconds; a second is the bound.
 */
async function eventually(
  r: Replica,
  u: User,
  projectId: string,
  s: Socket,
  want: { rest: number; join: string },
  what: string,
) {
  const ms = await waitUntil(
    async () => JSON.stringify(await seen(r, u, projectId, s)) === JSON.stringify(want),
    1000,
    what,
  );
  console.log(`[measure] ${what}: ${ms} ms`);
}

/** Reads the project on `r` as `u` over REST and over a socket: both fill r's cache. */
async function seen(r: Replica, u: User, projectId: string, s: Socket) {
  const rest = await client(r.url).get(`/api/projects/${projectId}`, u.token);
  const join = await call(s, 'join:project', projectId);
  return { rest: rest.status, join: join.ok ? 'ok' : (join.error.code as string) };
}

describe('[A1] member changes reach the cache of every replica', () => {
  let A: Replica;
  let B: Replica;
  const sockets = kit();

  beforeAll(async () => {
    const env = { MONGODB_URI: freshMongoUri('access_cache'), REDIS_URL: inject('redisUrl') };
    [A, B] = await Promise.all([startReplica('cache-a', env), startReplica('cache-b', env)]);
  });
  afterAll(async () => {
    sockets.closeAll();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('a member removed on B loses access on A within a second, although A had cached the role', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const mate = await registerUser(api, 'Mate');
    const projectId = await projectWith(A.url, owner, [mate]);
    const onA = await sockets.open(A, mate.token);
    for (let i = 0; i < 3; i++)
      expect(await seen(A, mate, projectId, onA)).toEqual({ rest: 200, join: 'ok' });

    const del = await client(B.url).del(
      `/api/projects/${projectId}/members/${mate.user.id}`,
      owner.token,
    );
    expect(del.status).toBe(204);

    await eventually(A, mate, projectId, onA, { rest: 404, join: 'not_found' }, 'removal on A');
    const fresh = await sockets.open(A, mate.token);
    expect((await call(fresh, 'join:project', projectId)).error.code).toBe('not_found');
    const task = await call(onA, 'task:create', { projectId, task: { title: 'after removal' } });
    expect(task.error.code).toBe('not_found');
  });

  it('a role change on B (member → viewer) takes effect on A within a second', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const mate = await registerUser(api, 'Mate');
    const projectId = await projectWith(A.url, owner, [mate]);
    const onA = await sockets.open(A, mate.token);
    for (let i = 0; i < 3; i++) {
      const ack = await call(onA, 'task:create', { projectId, task: { title: `as member ${i}` } });
      expect(ack.ok).toBe(true);
    }

    const patch = await client(B.url).patch(
      `/api/projects/${projectId}/members/${mate.user.id}`,
      { role: 'viewer' },
      owner.token,
    );
    expect(patch.status).toBe(200);
    const ms = await waitUntil(
      async () =>
        (await api.get(`/api/projects/${projectId}`, mate.token)).body.project.role === 'viewer',
      1000,
      'the new role on A',
    );
    console.log(`[measure] role change on A: ${ms} ms`);

    const ack = await call(onA, 'task:create', { projectId, task: { title: 'as viewer' } });
    expect(ack.ok).toBe(false);
    expect(ack.error.code).toBe('forbidden');
    const rest = await api.post(
      `/api/projects/${projectId}/tasks`,
      { title: 'as viewer' },
      mate.token,
    );
    expect(rest.status).toBe(403);
    expect((await api.get(`/api/projects/${projectId}`, mate.token)).body.project.role).toBe(
      'viewer',
    );
  });

  it('someone added on B (A had cached "not a member") gets in on A within a second', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const late = await registerUser(api, 'Late');
    const projectId = await projectWith(A.url, owner, []);
    const onA = await sockets.open(A, late.token);
    for (let i = 0; i < 3; i++)
      expect(await seen(A, late, projectId, onA)).toEqual({ rest: 404, join: 'not_found' });

    const add = await client(B.url).post(
      `/api/projects/${projectId}/members`,
      { email: late.user.email, role: 'member' },
      owner.token,
    );
    expect(add.status).toBe(201);
    await eventually(A, late, projectId, onA, { rest: 200, join: 'ok' }, 'addition on A');
  });

  it('a project deleted on B is gone on A within a second', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const mate = await registerUser(api, 'Mate');
    const projectId = await projectWith(A.url, owner, [mate]);
    const onA = await sockets.open(A, mate.token);
    expect(await seen(A, mate, projectId, onA)).toEqual({ rest: 200, join: 'ok' });
    expect((await client(B.url).del(`/api/projects/${projectId}`, owner.token)).status).toBe(204);
    await eventually(A, mate, projectId, onA, { rest: 404, join: 'not_found' }, 'deletion on A');
  });
});

describe('[A1] while A is cut off from Redis, a removal on B is not hidden by the cache of A', () => {
  // Every change takes its seq in Redis, so a removal happens only while Redis is up; it is lost
  // to a replica whose own link to Redis is down: a real TCP proxy between A and Redis, cut.
  let proxy: Awaited<ReturnType<typeof redisProxy>>;
  let A: Replica;
  let B: Replica;
  const sockets = kit();

  async function redisIs(r: Replica, state: 'up' | 'down') {
    await waitUntil(
      async () =>
        ((await (await fetch(`${r.url}/readyz`)).json()) as { redis: string }).redis === state,
      10_000,
      `redis ${state} on ${r.name}`,
    );
  }

  beforeAll(async () => {
    proxy = await redisProxy(inject('redisUrl'));
    const env = { MONGODB_URI: freshMongoUri('access_outage'), REDIS_URL: inject('redisUrl') };
    [A, B] = await Promise.all([
      startReplica('outage-a', { ...env, REDIS_URL: proxy.url }),
      startReplica('outage-b', env),
    ]);
  });
  afterAll(async () => {
    sockets.closeAll();
    await Promise.all([A?.stop(), B?.stop()]);
    proxy?.close();
  });

  it('A reads the database while its Redis link is down, and caches again once it is back', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const mate = await registerUser(api, 'Mate');
    const other = await registerUser(api, 'Other');
    const projectId = await projectWith(A.url, owner, [mate, other]);
    const onA = await sockets.open(A, mate.token);
    const otherOnA = await sockets.open(A, other.token);
    for (let i = 0; i < 3; i++) {
      expect(await seen(A, mate, projectId, onA)).toEqual({ rest: 200, join: 'ok' });
      expect(await seen(A, other, projectId, otherOnA)).toEqual({ rest: 200, join: 'ok' });
    }

    proxy.cut();
    await redisIs(A, 'down');

    // B's event cannot reach A. A must not answer from what it cached.
    const del = await client(B.url).del(
      `/api/projects/${projectId}/members/${mate.user.id}`,
      owner.token,
    );
    expect(del.status).toBe(204);
    expect(await seen(A, mate, projectId, onA)).toEqual({ rest: 404, join: 'not_found' });
    // The others still get in (from the database).
    expect(await seen(A, other, projectId, otherOnA)).toEqual({ rest: 200, join: 'ok' });

    proxy.restore();
    await redisIs(A, 'up');
    // Back to normal: cached on A, invalidated from B.
    for (let i = 0; i < 3; i++)
      expect(await seen(A, other, projectId, otherOnA)).toEqual({ rest: 200, join: 'ok' });
    const del2 = await client(B.url).del(
      `/api/projects/${projectId}/members/${other.user.id}`,
      owner.token,
    );
    expect(del2.status).toBe(204);
    await eventually(
      A,
      other,
      projectId,
      otherOnA,
      { rest: 404, join: 'not_found' },
      'removal on A after the outage',
    );
  }, 60_000);
});

describe('[A1] the cache on its own', () => {
  const P = 'aaaaaaaaaaaaaaaaaaaaaaaa';
  const U = 'bbbbbbbbbbbbbbbbbbbbbbbb';
  /** The role of U, whose roster read (one member at most) is `load`. */
  const roleOf = (cache: AccessCache, load: () => Promise<ProjectRole | null>) =>
    cache.roleFromRoster(P, U, async () => {
      const role = await load();
      return role ? [{ userId: U, role }] : [];
    });

  it('answers from memory until an event about the member arrives', async () => {
    const cache = new AccessCache();
    let reads = 0;
    const load = async () => {
      reads++;
      return 'member' as const;
    };
    for (let i = 0; i < 5; i++) expect(await roleOf(cache, load)).toBe('member');
    expect(reads).toBe(1);
    cache.invalidate({
      type: 'member:removed',
      projectId: P,
      seq: 1,
      at: '',
      actor: U,
      data: { userId: U },
    } as never);
    await roleOf(cache, load);
    expect(reads).toBe(2);
  });

  it('does not store a read that an invalidation overtook', async () => {
    const cache = new AccessCache();
    let release!: () => void;
    const slow = () =>
      new Promise<'member'>((r) => {
        release = () => r('member');
      });
    const pending = roleOf(cache, slow);
    cache.forgetMember(P, U); // the member was removed while the read was on its way
    release();
    expect(await pending).toBe('member');
    expect(await roleOf(cache, async () => null)).toBeNull();
  });

  it('trusts nothing while a Redis source is down, and forgets everything when it changes', async () => {
    const cache = new AccessCache();
    let up = true;
    const source = cache.attach(() => up);
    let reads = 0;
    const load = async () => {
      reads++;
      return 'member' as const;
    };
    await roleOf(cache, load);
    await roleOf(cache, load);
    expect(reads).toBe(1);
    up = false;
    source.changed();
    await roleOf(cache, load);
    await roleOf(cache, load);
    expect(reads).toBe(3);
    up = true;
    source.changed();
    await roleOf(cache, load);
    await roleOf(cache, load);
    expect(reads).toBe(4);
  });

  it('a deleted project stays gone, whatever a late read says', async () => {
    const cache = new AccessCache();
    cache.invalidate({
      type: 'project:deleted',
      projectId: P,
      seq: 1,
      at: '',
      actor: U,
      data: { projectId: P },
    } as never);
    expect(await roleOf(cache, async () => 'owner')).toBeNull();
  });
});

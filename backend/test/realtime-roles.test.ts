/**
 * What each role may send and see over sockets and SSE: [P5] a viewer cannot send typing
 * events; [M1] members' e-mail addresses reach only owners and admins. Two real replica
 * processes, real Redis and FerretDB, real WebSocket clients.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import { dataOf, openSse, type SseClient } from './helpers/sse.js';
import {
  call,
  collect,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';

type User = Awaited<ReturnType<typeof registerUser>>;

describe('roles over sockets', () => {
  let A: Replica;
  let B: Replica;
  const sockets: Socket[] = [];
  const streams: SseClient[] = [];
  let owner: User;
  let admin: User;
  let member: User;
  let viewer: User;
  let projectId: string;
  let channelId: string;

  const open = async (r: Replica, token: string) => {
    const s = socketFor(r.url, token);
    sockets.push(s);
    await connected(s);
    return s;
  };

  beforeAll(async () => {
    const env = { MONGODB_URI: freshMongoUri('rt_roles'), REDIS_URL: inject('redisUrl') };
    [A, B] = await Promise.all([startReplica('roles-a', env), startReplica('roles-b', env)]);
    const api = client(A.url);
    [owner, admin, member, viewer] = (await Promise.all(
      ['Owner', 'Admin', 'Member', 'Viewer'].map((n) => registerUser(api, n)),
    )) as [User, User, User, User];
    const p = await api.post('/api/projects', { name: 'Roles' }, owner.token);
    projectId = p.body.project.id;
    for (const [u, role] of [
      [admin, 'admin'],
      [member, 'member'],
      [viewer, 'viewer'],
    ] as const) {
      const r = await api.post(
        `/api/projects/${projectId}/members`,
        { email: u.user.email, role },
        owner.token,
      );
      expect(r.status).toBe(201);
    }
    channelId = (await api.get(`/api/projects/${projectId}/channels`, owner.token)).body.channels[0]
      .id;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const s of streams) s.close();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('[P5] a viewer’s chat:typing is refused (forbidden) and reaches nobody', async () => {
    const watcher = await open(A, owner.token);
    const viewerSocket = await open(B, viewer.token);
    const memberSocket = await open(B, member.token);
    for (const s of [watcher, viewerSocket, memberSocket])
      expect((await call(s, 'chat:join', channelId)).ok).toBe(true);
    const typing = collect<{ userId: string }>(watcher, 'chat:userTyping');

    expect(await call(viewerSocket, 'chat:typing', { channelId, isTyping: true })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: expect.stringMatching(/member role/) },
    });
    // The sentinel: a member's typing, sent after, arrives; the viewer's never did.
    expect((await call(memberSocket, 'chat:typing', { channelId, isTyping: true })).ok).toBe(true);
    await waitUntil(
      () => typing.some((t) => t.userId === member.user.id),
      5000,
      'the member’s typing',
    );
    expect(typing.map((t) => t.userId)).toEqual([member.user.id]);
  });

  it('[M1] member:added and member:updated carry e-mail addresses only to owners and admins, also as roles change', async () => {
    const api = client(A.url);
    type Added = {
      seq: number;
      member: { userId: string; role: string; user?: { email?: string; name: string } };
    };
    const who = { owner, admin, member, viewer } as const;
    const socketsOf = {} as Record<keyof typeof who, Socket>;
    const seen = {} as Record<keyof typeof who, Added[]>;
    for (const [i, [name, u]] of Object.entries(who).entries()) {
      const s = await open(i % 2 === 0 ? A : B, u.token);
      const join = await call(s, 'join:project', projectId);
      expect(join.ok).toBe(true);
      socketsOf[name as keyof typeof who] = s;
      seen[name as keyof typeof who] = collect<Added>(s, 'member:added');
    }
    const sinceSeq = (await call(socketsOf.owner, 'join:project', projectId)).data.seq as number;
    const adminStream = await openSse(`${B.url}/api/projects/${projectId}/events`, admin.token);
    const memberStream = await openSse(`${A.url}/api/projects/${projectId}/events`, member.token);
    streams.push(adminStream, memberStream);
    for (const s of [adminStream, memberStream])
      await waitUntil(() => dataOf(s.frames, 'ready').length === 1, 5000, 'ready');

    const add = async () => {
      const u = await registerUser(api, 'Newbie');
      const r = await api.post(
        `/api/projects/${projectId}/members`,
        { email: u.user.email, role: 'member' },
        owner.token,
      );
      expect(r.status).toBe(201);
      const arrived = (name: keyof typeof who) =>
        seen[name].find((e) => e.member.userId === u.user.id);
      await waitUntil(
        () => (Object.keys(who) as Array<keyof typeof who>).every((n) => arrived(n)),
        5000,
        'member:added on every socket',
      );
      const email = (name: keyof typeof who) => arrived(name)!.member.user?.email ?? null;
      return { u, email };
    };

    // Owner and admin see the address; member and viewer see the member without it.
    const first = await add();
    expect(first.email('owner')).toBe(first.u.user.email);
    expect(first.email('admin')).toBe(first.u.user.email);
    expect(first.email('member')).toBeNull();
    expect(first.email('viewer')).toBeNull();
    expect(seen.member.find((e) => e.member.userId === first.u.user.id)!.member.user?.name).toBe(
      'Newbie',
    );
    // The same over SSE.
    const streamed = (s: SseClient, id: string) =>
      dataOf<{ data: Added }>(s.frames, 'member:added').find((e) => e.data.member.userId === id);
    await waitUntil(
      () => !!streamed(adminStream, first.u.user.id) && !!streamed(memberStream, first.u.user.id),
      5000,
      'member:added on both streams',
    );
    expect(streamed(adminStream, first.u.user.id)!.data.member.user?.email).toBe(
      first.u.user.email,
    );
    expect(streamed(memberStream, first.u.user.id)!.data.member.user).not.toHaveProperty('email');
    // And in what join:project replays.
    for (const [name, visible] of [
      ['admin', true],
      ['member', false],
    ] as const) {
      const join = await call(socketsOf[name], 'join:project', { projectId, sinceSeq });
      const replayed = (join.data.missed as Array<{ type: string; data: Added }>).find(
        (e) => e.type === 'member:added' && e.data.member.userId === first.u.user.id,
      );
      expect(replayed!.data.member.user?.email ?? null).toBe(visible ? first.u.user.email : null);
    }

    // Roles change: the member becomes an admin, the admin a member; no one re-joins.
    for (const [u, role] of [
      [member, 'admin'],
      [admin, 'member'],
    ] as const) {
      const r = await api.patch(
        `/api/projects/${projectId}/members/${u.user.id}`,
        { role },
        owner.token,
      );
      expect(r.status).toBe(200);
    }
    const second = await add();
    expect(second.email('owner')).toBe(second.u.user.email);
    expect(second.email('member')).toBe(second.u.user.email);
    expect(second.email('admin')).toBeNull();
    expect(second.email('viewer')).toBeNull();
    await waitUntil(
      () => !!streamed(adminStream, second.u.user.id) && !!streamed(memberStream, second.u.user.id),
      5000,
      'the second member:added on both streams',
    );
    expect(streamed(memberStream, second.u.user.id)!.data.member.user?.email).toBe(
      second.u.user.email,
    );
    expect(streamed(adminStream, second.u.user.id)!.data.member.user).not.toHaveProperty('email');
  });
});

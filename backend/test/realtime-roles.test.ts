/**
 * What each role may send and see over sockets and SSE: [P5] a viewer cannot send typing
 * events; [M1] members' e-mail addresses reach only owners and admins. Two real replica
 * processes, real Redis and FerretDB, real WebSocket clients.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
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
    [owner, admin, member, viewer] = await Promise.all(
      ['Owner', 'Admin', 'Member', 'Viewer'].map((n) => registerUser(api, n)),
    );
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
});

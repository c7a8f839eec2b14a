import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
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

/**
 * Two backend processes (different ports) on one real Redis and one FerretDB database:
 * whatever happens on one replica reaches the clients of the other.
 */
describe('two replicas, one Redis', () => {
  let A: Replica;
  let B: Replica;
  const sockets: Socket[] = [];
  let owner: { token: string; user: { id: string } };
  let mate: { token: string; user: { id: string; email: string } };
  let viewer: { token: string; user: { id: string; email: string } };
  let stranger: { token: string; user: { id: string } };
  let projectId: string;
  let channelId: string;

  const open = async (r: Replica, token: string) => {
    const s = socketFor(r.url, token);
    sockets.push(s);
    await connected(s);
    return s;
  };

  beforeAll(async () => {
    const env = {
      MONGODB_URI: freshMongoUri('cluster'),
      REDIS_URL: inject('redisUrl'),
      PRESENCE_TTL: '6s',
      PRESENCE_HEARTBEAT: '1s',
    };
    [A, B] = await Promise.all([startReplica('replica-a', env), startReplica('replica-b', env)]);
    const apiA = client(A.url);
    owner = await registerUser(apiA, 'Owner');
    mate = await registerUser(apiA, 'Mate');
    viewer = await registerUser(apiA, 'Viewer');
    stranger = await registerUser(apiA, 'Stranger');
    const p = await apiA.post('/api/projects', { name: 'Cluster board' }, owner.token);
    projectId = p.body.project.id;
    await apiA.post(
      `/api/projects/${projectId}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    await apiA.post(
      `/api/projects/${projectId}/members`,
      { email: viewer.user.email, role: 'viewer' },
      owner.token,
    );
    const ch = await apiA.get(`/api/projects/${projectId}/channels`, owner.token);
    channelId = ch.body.channels[0].id;
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('a move on replica A reaches clients on replica B with the next seq and the full task', async () => {
    const api = client(A.url);
    const t1 = (await api.post(`/api/projects/${projectId}/tasks`, { title: 'First' }, owner.token))
      .body.task;
    const t2 = (
      await api.post(`/api/projects/${projectId}/tasks`, { title: 'Second' }, owner.token)
    ).body.task;
    const onA = await open(A, owner.token);
    const onB = await open(B, mate.token);
    const joinA = await call(onA, 'join:project', projectId);
    const joinB = await call(onB, 'join:project', { projectId });
    expect(joinA.ok).toBe(true);
    expect(joinB.ok).toBe(true);
    const moved = collect(onB, 'task:moved');
    const ack = await call(onA, 'task:move', {
      projectId,
      taskId: t2.id,
      fromStatus: 'todo',
      toStatus: 'in-progress',
      newIndex: 0,
      clientId: 'm-1',
    });
    expect(ack.ok).toBe(true);
    expect(ack.data.task.status).toBe('in-progress');
    await waitUntil(() => moved.length === 1, 5000, 'task:moved on B');
    const ev = moved[0];
    expect(ev.seq).toBe(joinB.data.seq + 1);
    expect(ev).toMatchObject({
      projectId,
      taskId: t2.id,
      fromStatus: 'todo',
      toStatus: 'in-progress',
      newIndex: 0,
      movedBy: owner.user.id,
      clientId: 'm-1',
    });
    expect(ev.task).toEqual(ack.data.task);
    expect(t1.id).not.toBe(t2.id);
  });

  it('a REST update on replica B reaches sockets on replica A', async () => {
    const apiB = client(B.url);
    const task = (
      await apiB.post(`/api/projects/${projectId}/tasks`, { title: 'Via REST' }, mate.token)
    ).body.task;
    const onA = await open(A, owner.token);
    const join = await call(onA, 'join:project', projectId);
    const updates = collect(onA, 'task:updated');
    const res = await apiB.patch(
      `/api/tasks/${task.id}`,
      { version: task.version, title: 'Renamed via REST' },
      mate.token,
    );
    expect(res.status).toBe(200);
    await waitUntil(() => updates.length === 1, 5000, 'task:updated on A');
    expect(updates[0]).toMatchObject({
      taskId: task.id,
      updatedBy: mate.user.id,
      updates: { title: 'Renamed via REST' },
    });
    expect(updates[0].task.title).toBe('Renamed via REST');
    expect(updates[0].seq).toBe(join.data.seq + 1);
  });

  it('chat from both replicas arrives at every member with the same seq order as the stored history', async () => {
    const onA = await open(A, owner.token);
    const onB = await open(B, mate.token);
    const onB2 = await open(B, viewer.token);
    for (const s of [onA, onB, onB2])
      expect((await call(s, 'join:project', projectId)).ok).toBe(true);
    const got = [onA, onB, onB2].map((s) => collect(s, 'chat:newMessage'));
    const sends: Promise<any>[] = [];
    for (let i = 0; i < 10; i++) {
      sends.push(call(onA, 'chat:message', { channelId, content: `from A ${i}` }));
      sends.push(call(onB, 'chat:message', { channelId, content: `from B ${i}` }));
    }
    const acks = await Promise.all(sends);
    expect(acks.every((a) => a.ok)).toBe(true);
    await waitUntil(() => got.every((g) => g.length === 20), 5000, 'all 20 messages everywhere');
    const history = await client(A.url).get(
      `/api/channels/${channelId}/messages?limit=20`,
      owner.token,
    );
    const stored = history.body.messages.map((m: { id: string }) => m.id).reverse();
    for (const g of got) {
      const bySeq = [...g].sort((x, y) => x.seq - y.seq);
      // Every client has the same set of seqs, consecutive, and seq order is the storage order.
      expect(bySeq.map((m) => m.seq)).toEqual(got[0]!.map((m) => m.seq).sort((x, y) => x - y));
      expect(bySeq[19].seq - bySeq[0].seq).toBe(19);
      expect(bySeq.map((m) => m.id)).toEqual(stored);
    }
  });

  it('typing crosses replicas and expires by itself', async () => {
    const onA = await open(A, owner.token);
    const onB = await open(B, mate.token);
    expect((await call(onA, 'chat:join', channelId)).ok).toBe(true);
    expect((await call(onB, 'chat:join', channelId)).ok).toBe(true);
    const typing = collect(onB, 'chat:userTyping');
    expect((await call(onA, 'chat:typing', { channelId, isTyping: true })).ok).toBe(true);
    await waitUntil(() => typing.length >= 1, 5000, 'typing on B');
    expect(typing[0]).toMatchObject({ channelId, userId: owner.user.id, isTyping: true });
    const ms = await waitUntil(
      () => typing.some((t) => t.isTyping === false),
      10_000,
      'typing expiry on B',
    );
    expect(ms).toBeGreaterThan(3000);
  });

  it('presence: one user on A and on B is online once; the last close emits user:left on both replicas', async () => {
    const watchA = await open(A, owner.token);
    const watchB = await open(B, viewer.token);
    await call(watchA, 'join:project', projectId);
    await call(watchB, 'join:project', projectId);
    const joinedA = collect(watchA, 'user:joined');
    const joinedB = collect(watchB, 'user:joined');
    const leftA = collect(watchA, 'user:left');
    const leftB = collect(watchB, 'user:left');

    // A user with no other connection yet, with one tab on each replica.
    const tabs = await registerUser(client(A.url), 'Tabs');
    await client(A.url).post(
      `/api/projects/${projectId}/members`,
      { email: tabs.user.email, role: 'member' },
      owner.token,
    );
    const tabA = await open(A, tabs.token);
    const tabB = await open(B, tabs.token);
    await call(tabA, 'join:project', projectId);
    const second = await call(tabB, 'join:project', projectId);
    const mateId = tabs.user.id;
    await waitUntil(
      () => joinedA.some((j) => j.userId === mateId) && joinedB.some((j) => j.userId === mateId),
      5000,
      'user:joined',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(joinedA.filter((j) => j.userId === mateId)).toHaveLength(1);
    expect(joinedB.filter((j) => j.userId === mateId)).toHaveLength(1);
    expect(second.data.users.filter((u: { id: string }) => u.id === mateId)).toHaveLength(1);

    tabA.disconnect();
    await new Promise((r) => setTimeout(r, 500));
    expect(leftA.filter((l) => l.userId === mateId)).toHaveLength(0);
    const stillThere = await call(watchA, 'join:project', projectId);
    expect(stillThere.data.users.map((u: { id: string }) => u.id)).toContain(mateId);

    tabB.disconnect();
    await waitUntil(
      () => leftA.some((l) => l.userId === mateId) && leftB.some((l) => l.userId === mateId),
      5000,
      'user:left on both',
    );
    expect(leftA.filter((l) => l.userId === mateId)).toHaveLength(1);
  });

  it('a non-member cannot join, emit or receive anything of the project; a viewer cannot mutate', async () => {
    const outsider = await open(B, stranger.token);
    const received: string[] = [];
    outsider.onAny((event) => received.push(event));
    const join = await call(outsider, 'join:project', projectId);
    expect(join).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const create = await call(outsider, 'task:create', { projectId, task: { title: 'nope' } });
    expect(create).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const chatJoin = await call(outsider, 'chat:join', channelId);
    expect(chatJoin.ok).toBe(false);
    const msg = await call(outsider, 'chat:message', { channelId, content: 'hi' });
    expect(msg).toMatchObject({ ok: false, error: { code: 'not_found' } });

    const v = await open(A, viewer.token);
    await call(v, 'join:project', projectId);
    const vCreate = await call(v, 'task:create', { projectId, task: { title: 'viewer task' } });
    expect(vCreate).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const vChat = await call(v, 'chat:message', { channelId, content: 'viewer says' });
    expect(vChat).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // Activity in the project while the outsider listens: nothing reaches them.
    await client(A.url).post(`/api/projects/${projectId}/tasks`, { title: 'secret' }, owner.token);
    await call(await open(A, owner.token), 'chat:message', { channelId, content: 'secret chat' });
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toEqual([]);
  });
});

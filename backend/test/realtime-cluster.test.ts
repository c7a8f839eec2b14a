import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import { sentinel } from './helpers/sentinel.js';
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
  let stranger: { token: string; user: { id: string; email: string } };
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

  it('[E1] a move on replica A reaches clients on replica B with the next seq and the full task', async () => {
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

  it('[S2] a REST update on replica B reaches sockets on replica A', async () => {
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

  it('[E2] chat from both replicas arrives at every member with the same seq order as the stored history', async () => {
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

  it('[P3] typing crosses replicas and expires by itself', async () => {
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

  it('[P1] presence: one user on A and on B is online once; the last close emits user:left on both replicas', async () => {
    const watchA = await open(A, owner.token);
    const watchB = await open(B, viewer.token);
    await call(watchA, 'join:project', projectId);
    await call(watchB, 'join:project', projectId);
    const joinedA = collect(watchA, 'user:joined');
    const joinedB = collect(watchB, 'user:joined');
    const leftA = collect(watchA, 'user:left');
    const leftB = collect(watchB, 'user:left');
    const tasksA = collect<{ task: { title: string } }>(watchA, 'task:created');
    const tasksB = collect<{ task: { title: string } }>(watchB, 'task:created');
    const has = (seen: { task: { title: string } }[], title: string) =>
      seen.some((t) => t.task.title === title);
    /**
     * The sentinel of this test: a task created over REST on each replica. Each is broadcast
     * before it is answered, after whatever that replica announced before, so it reaches both
     * watchers (locally, or through that replica's Redis publisher) after those announcements.
     */
    const sentinels = async (title: string) => {
      for (const r of [A, B]) {
        const t = `${title} via ${r.name}`;
        await sentinel(
          () => client(r.url).post(`/api/projects/${projectId}/tasks`, { title: t }, owner.token),
          () => has(tasksA, t) && has(tasksB, t),
          `${t} on both watchers`,
        );
      }
    };

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
    const presenceKey = `collabflow:presence:project:${projectId}`;
    await waitUntil(
      () => joinedA.some((j) => j.userId === mateId) && joinedB.some((j) => j.userId === mateId),
      5000,
      'user:joined',
    );
    // Both joins announced what they announce before their acks; a second user:joined would
    // come before the sentinels.
    await sentinels('after the joins');
    expect(joinedA.filter((j) => j.userId === mateId)).toHaveLength(1);
    expect(joinedB.filter((j) => j.userId === mateId)).toHaveLength(1);
    expect(second.data.users.filter((u: { id: string }) => u.id === mateId)).toHaveLength(1);

    // Replica A handles the close on its own time: the sentinels go out once the presence store
    // no longer has that tab. The leave script has then answered A "last or not", and A emits
    // user:left (or not) as it reads that answer; the sentinel's request reaches A after it and
    // still awaits Redis and the database before A broadcasts it.
    const tabAEntry = `${mateId}|${A.name}/${tabA.id}`;
    const redis = new Redis(inject('redisUrl'), { lazyConnect: true });
    await redis.connect();
    try {
      expect(await redis.zscore(presenceKey, tabAEntry)).not.toBeNull();
      tabA.disconnect();
      await waitUntil(
        async () => (await redis.zscore(presenceKey, tabAEntry)) === null,
        5000,
        'the closed tab leaves the presence store',
      );
    } finally {
      redis.disconnect();
    }
    await sentinels('after one tab closed');
    expect(leftA.filter((l) => l.userId === mateId)).toHaveLength(0);
    expect(leftB.filter((l) => l.userId === mateId)).toHaveLength(0);
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

  it('[R3] a non-member cannot join, emit or receive anything of the project; a viewer cannot mutate', async () => {
    // The outsider's own project, on the same replicas: its events carry the sentinel below.
    const apiA = client(A.url);
    const own = await apiA.post('/api/projects', { name: 'Elsewhere' }, owner.token);
    expect(own.status).toBe(201);
    const elsewhere = own.body.project.id as string;
    const addOutsider = await apiA.post(
      `/api/projects/${elsewhere}/members`,
      { email: stranger.user.email, role: 'member' },
      owner.token,
    );
    expect(addOutsider.status).toBe(201);
    const outsider = await open(B, stranger.token);
    expect((await call(outsider, 'join:project', elsewhere)).ok).toBe(true);
    const received: { event: string; payload: any }[] = [];
    outsider.onAny((event: string, payload: unknown) => received.push({ event, payload }));
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
    const secret = await apiA.post(
      `/api/projects/${projectId}/tasks`,
      { title: 'secret' },
      owner.token,
    );
    expect(secret.status).toBe(201);
    // Over REST: the owner's socket chat budget went on the chat test above.
    const secretChat = await apiA.post(
      `/api/channels/${channelId}/messages`,
      { content: 'secret chat' },
      owner.token,
    );
    expect(secretChat.status).toBe(201);
    // The sentinel: an event of the outsider's own project, published by A right after the
    // secret ones (both were broadcast before they were answered). Redis keeps one publisher's
    // order, so it reaches B's subscriber, and the outsider's WebSocket, after them.
    await sentinel(
      () => apiA.post(`/api/projects/${elsewhere}/tasks`, { title: 'sentinel' }, owner.token),
      () => received.some((r) => r.event === 'task:created' && r.payload.projectId === elsewhere),
      'task:created of their own project on the outsider',
    );
    expect(received).toEqual([
      {
        event: 'task:created',
        payload: expect.objectContaining({
          projectId: elsewhere,
          task: expect.objectContaining({ title: 'sentinel' }),
        }),
      },
    ]);
  });
});

/**
 * Missed events are recoverable: a socket that comes back with its last seq gets what it missed
 * (or `resync: true` when the bounded log no longer has it), and the SSE stream resumes the same
 * way with Last-Event-ID. Changes happen on the other replica, so the log and the live stream
 * must both work across processes.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import { openSse } from './helpers/sse.js';
import { sentinel } from './helpers/sentinel.js';
import {
  call,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';

const LOG_SIZE = 10;
const ENVELOPE = ['actor', 'at', 'data', 'projectId', 'seq', 'type'];

describe('resuming after a gap', () => {
  let A: Replica;
  let B: Replica;
  const sockets: Socket[] = [];
  const streams: { close(): void }[] = [];
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let mate: Awaited<ReturnType<typeof registerUser>>;
  let outsider: Awaited<ReturnType<typeof registerUser>>;

  const open = async (r: Replica, token: string) => {
    const s = socketFor(r.url, token);
    sockets.push(s);
    await connected(s);
    return s;
  };

  async function newProject(): Promise<{ projectId: string; channelId: string }> {
    const api = client(A.url);
    const p = await api.post('/api/projects', { name: 'Resume board' }, owner.token);
    expect(p.status).toBe(201);
    const projectId = p.body.project.id as string;
    const m = await api.post(
      `/api/projects/${projectId}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    expect(m.status).toBe(201);
    const ch = await api.get(`/api/projects/${projectId}/channels`, owner.token);
    return { projectId, channelId: ch.body.channels[0].id };
  }

  async function projectSeq(projectId: string): Promise<number> {
    const res = await client(A.url).get(`/api/projects/${projectId}`, owner.token);
    expect(res.status).toBe(200);
    return res.body.project.seq;
  }

  beforeAll(async () => {
    const env = {
      MONGODB_URI: freshMongoUri('rt_resume'),
      REDIS_URL: inject('redisUrl'),
      // Every test file registers from 127.0.0.1, and the per-IP budget lives in the shared Redis.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      EVENT_LOG_SIZE: String(LOG_SIZE),
    };
    [A, B] = await Promise.all([startReplica('resume-a', env), startReplica('resume-b', env)]);
    const api = client(A.url);
    owner = await registerUser(api, 'Owner');
    mate = await registerUser(api, 'Mate');
    outsider = await registerUser(api, 'Outsider');
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    for (const s of sockets) s.disconnect();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('[E4] join:project with sinceSeq returns exactly the missed events, in seq order, with the envelope', async () => {
    const { projectId, channelId } = await newProject();
    const s = await open(A, mate.token);
    const first = await call(s, 'join:project', projectId);
    expect(first.ok).toBe(true);
    const seq0: number = first.data.seq;
    expect(seq0).toBe(await projectSeq(projectId));
    expect(first.data.missed).toBeUndefined();

    // A witness that stays connected sees the same events live.
    const witness = await open(A, owner.token);
    expect((await call(witness, 'join:project', projectId)).ok).toBe(true);
    const live: { event: string; payload: any }[] = [];
    witness.onAny((event: string, payload: any) => {
      if (payload && typeof payload.seq === 'number') live.push({ event, payload });
    });

    s.disconnect();
    // Five changes on the other replica, over REST, while the client is away.
    const apiB = client(B.url);
    const t1 = (await apiB.post(`/api/projects/${projectId}/tasks`, { title: 'one' }, owner.token))
      .body.task;
    const t1b = (
      await apiB.patch(`/api/tasks/${t1.id}`, { version: t1.version, title: 'one!' }, owner.token)
    ).body.task;
    const moved = await apiB.post(
      `/api/tasks/${t1.id}/move`,
      { status: 'done', version: t1b.version },
      owner.token,
    );
    expect(moved.status).toBe(200);
    const msg = await apiB.post(
      `/api/channels/${channelId}/messages`,
      { content: 'hi' },
      mate.token,
    );
    expect(msg.status).toBe(201);
    expect((await apiB.del(`/api/tasks/${t1.id}`, owner.token)).status).toBe(204);
    await waitUntil(() => live.length === 5, 5000, 'the witness sees the 5 events');

    s.connect();
    await connected(s);
    const back = await call(s, 'join:project', { projectId, sinceSeq: seq0 });
    expect(back.ok).toBe(true);
    expect(back.data.resync).toBeUndefined();
    expect(back.data.seq).toBe(seq0 + 5);
    const missed: any[] = back.data.missed;
    expect(missed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5].map((i) => seq0 + i));
    expect(missed.map((e) => e.type)).toEqual([
      'task:created',
      'task:updated',
      'task:moved',
      'chat:newMessage',
      'task:deleted',
    ]);
    for (const e of missed) {
      expect(Object.keys(e).sort()).toEqual(ENVELOPE);
      expect(e.projectId).toBe(projectId);
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
      expect(typeof e.data).toBe('object');
    }
    expect(missed.map((e) => e.actor)).toEqual([
      owner.user.id,
      owner.user.id,
      owner.user.id,
      mate.user.id,
      owner.user.id,
    ]);
    expect(missed[0].data).toMatchObject({ task: { id: t1.id, title: 'one' } });
    expect(missed[1].data).toMatchObject({ taskId: t1.id, updates: { title: 'one!' } });
    expect(missed[2].data).toMatchObject({ taskId: t1.id, toStatus: 'done' });
    expect(missed[3].data).toMatchObject({ id: msg.body.message.id, content: 'hi' });
    expect(missed[4].data).toMatchObject({ taskId: t1.id, deletedBy: owner.user.id });
    // What was missed is what was broadcast live, field for field.
    for (const e of missed) {
      const seen = live.find((l) => l.payload.seq === e.seq);
      expect(seen?.event).toBe(e.type);
      expect(seen?.payload).toEqual({
        ...e.data,
        projectId: e.projectId,
        seq: e.seq,
        at: e.at,
        actor: e.actor,
      });
    }

    // Up to date: nothing missed.
    const again = await call(s, 'join:project', { projectId, sinceSeq: seq0 + 5 });
    expect(again.data).toMatchObject({ seq: seq0 + 5, missed: [] });
  });

  it(`[E4] a gap longer than the log (EVENT_LOG_SIZE=${LOG_SIZE}) answers resync: true`, async () => {
    const { projectId } = await newProject();
    const s = await open(A, mate.token);
    const seq0: number = (await call(s, 'join:project', projectId)).data.seq;
    s.disconnect();
    const apiB = client(B.url);
    for (let i = 0; i < 30; i++) {
      const r = await apiB.post(
        `/api/projects/${projectId}/tasks`,
        { title: `t${i}` },
        owner.token,
      );
      expect(r.status).toBe(201);
    }
    const now = seq0 + 30;
    expect(await projectSeq(projectId)).toBe(now);

    s.connect();
    await connected(s);
    const back = await call(s, 'join:project', { projectId, sinceSeq: seq0 });
    expect(back.ok).toBe(true);
    expect(back.data.seq).toBe(now);
    expect(back.data.resync).toBe(true);
    expect(back.data.missed).toBeUndefined();

    // The boundary: the last LOG_SIZE events are still there, one more is not.
    const edge = await call(s, 'join:project', { projectId, sinceSeq: now - LOG_SIZE });
    expect(edge.data.resync).toBeUndefined();
    expect(edge.data.missed.map((e: { seq: number }) => e.seq)).toEqual(
      Array.from({ length: LOG_SIZE }, (_, i) => now - LOG_SIZE + 1 + i),
    );
    const past = await call(s, 'join:project', { projectId, sinceSeq: now - LOG_SIZE - 1 });
    expect(past.data).toMatchObject({ seq: now, resync: true });
  });

  it('[E5] SSE with Last-Event-ID replays the gap as id: frames, then streams live events from the other replica', async () => {
    const { projectId } = await newProject();
    const seq0 = await projectSeq(projectId);
    const apiB = client(B.url);
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await apiB.post(
        `/api/projects/${projectId}/tasks`,
        { title: `s${i}` },
        owner.token,
      );
      expect(r.status).toBe(201);
      made.push(r.body.task.id);
    }
    const sse = await openSse(`${A.url}/api/projects/${projectId}/events`, mate.token, {
      'Last-Event-ID': String(seq0 + 1),
    });
    streams.push(sse);
    expect(sse.res.status).toBe(200);
    expect(sse.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = () => sse.frames.filter((f) => f.id !== undefined);
    await waitUntil(() => events().length === 3, 5000, 'the 3 replayed frames');
    expect(events().map((f) => f.id)).toEqual([2, 3, 4].map((i) => String(seq0 + i)));
    for (const [i, f] of events().entries()) {
      expect(f.event).toBe('task:created');
      const e = JSON.parse(f.data!);
      expect(Object.keys(e).sort()).toEqual(ENVELOPE);
      expect(e).toMatchObject({ type: 'task:created', projectId, seq: seq0 + 2 + i });
      expect(e.data.task.id).toBe(made[i + 1]);
    }

    // Live: a change on replica B reaches this stream on replica A.
    const live = await apiB.patch(`/api/tasks/${made[0]}`, { title: 'live from B' }, owner.token);
    expect(live.status).toBe(200);
    await waitUntil(() => events().length === 4, 5000, 'the live frame');
    const last = events()[3]!;
    expect(last).toMatchObject({ id: String(seq0 + 5), event: 'task:updated' });
    expect(JSON.parse(last.data!)).toMatchObject({
      type: 'task:updated',
      seq: seq0 + 5,
      actor: owner.user.id,
      data: { taskId: made[0], updates: { title: 'live from B' } },
    });
    expect(sse.failure()).toBeUndefined();
    sse.close();
  });

  it('[E5] SSE without Last-Event-ID starts with ready; one older than the log gets resync', async () => {
    const { projectId } = await newProject();
    const apiB = client(B.url);
    for (let i = 0; i < LOG_SIZE + 3; i++) {
      expect(
        (await apiB.post(`/api/projects/${projectId}/tasks`, { title: `r${i}` }, owner.token))
          .status,
      ).toBe(201);
    }
    const now = await projectSeq(projectId);

    const fresh = await openSse(`${A.url}/api/projects/${projectId}/events`, owner.token);
    streams.push(fresh);
    await waitUntil(() => fresh.frames.length >= 1, 5000, 'ready frame');
    expect(fresh.frames[0]!.event).toBe('ready');
    expect(JSON.parse(fresh.frames[0]!.data!)).toEqual({ projectId, seq: now });

    const old = await openSse(`${A.url}/api/projects/${projectId}/events`, owner.token, {
      'Last-Event-ID': '0',
    });
    streams.push(old);
    await waitUntil(() => old.frames.length >= 1, 5000, 'resync frame');
    expect(old.frames[0]!.event).toBe('resync');
    expect(JSON.parse(old.frames[0]!.data!)).toEqual({ projectId, seq: now });
    expect(old.frames.filter((f) => f.id !== undefined)).toEqual([]);

    // Both then carry the next live event, once.
    expect(
      (await apiB.post(`/api/projects/${projectId}/tasks`, { title: 'next' }, owner.token)).status,
    ).toBe(201);
    for (const s of [fresh, old]) {
      await waitUntil(() => s.frames.some((f) => f.id === String(now + 1)), 5000, 'live frame');
      expect(s.frames.filter((f) => f.id !== undefined).map((f) => f.id)).toEqual([
        String(now + 1),
      ]);
      s.close();
    }
  });

  it('[E5] SSE delivers every seq once and in order while both replicas write at the same time', async () => {
    const { projectId, channelId } = await newProject();
    const seq0 = await projectSeq(projectId);
    const sse = await openSse(`${A.url}/api/projects/${projectId}/events`, owner.token, {
      'Last-Event-ID': String(seq0),
    });
    streams.push(sse);
    expect(sse.res.status).toBe(200);
    // Six writers on two replicas: events reach the stream on A from A directly and from B
    // through Redis, so they can arrive out of seq order. One column per task writer, so the
    // writers do not compete for board positions.
    const N = 25;
    const taskWriter = async (r: Replica, status: string) => {
      const api = client(r.url);
      for (let i = 0; i < N; i++) {
        const res = await api.post(
          `/api/projects/${projectId}/tasks`,
          { title: `${status}${i}`, status },
          owner.token,
        );
        expect(res.status).toBe(201);
      }
    };
    const chatWriter = async (r: Replica, who: typeof owner) => {
      const api = client(r.url);
      for (let i = 0; i < N; i++) {
        const res = await api.post(
          `/api/channels/${channelId}/messages`,
          { content: `m${i}` },
          who.token,
        );
        expect(res.status).toBe(201);
      }
    };
    await Promise.all([
      taskWriter(A, 'todo'),
      taskWriter(B, 'in-progress'),
      taskWriter(A, 'review'),
      taskWriter(B, 'done'),
      chatWriter(A, owner),
      chatWriter(B, mate),
    ]);
    const total = 6 * N;
    expect(await projectSeq(projectId)).toBe(seq0 + total);
    const ids = () => sse.frames.filter((f) => f.id !== undefined).map((f) => Number(f.id));
    await waitUntil(() => ids().length >= total, 10_000, `${total} frames`);
    // Nothing more (no duplicate) arrives afterwards: the sentinel is one more change, made on
    // B, so it reaches the stream on A through B's Redis publisher after every event B published
    // before (A's own events reached the stream before their requests were answered). Its frame
    // must be the very next one, with the next id.
    const next = seq0 + total + 1;
    await sentinel(
      () =>
        client(B.url).post(`/api/projects/${projectId}/tasks`, { title: 'sentinel' }, owner.token),
      () => ids().includes(next),
      `frame ${next}`,
    );
    expect(ids()).toEqual(Array.from({ length: total + 1 }, (_, i) => seq0 + 1 + i));
    expect(sse.frames.filter((f) => f.event === 'resync')).toEqual([]);
    expect(sse.failure()).toBeUndefined();
    sse.close();
  }, 60_000);

  it('SSE refuses non-members (404), anonymous callers (401) and a malformed Last-Event-ID (400)', async () => {
    const { projectId } = await newProject();
    const url = `${A.url}/api/projects/${projectId}/events`;
    const stranger = await fetch(url, { headers: { authorization: `Bearer ${outsider.token}` } });
    expect(stranger.status).toBe(404);
    expect(((await stranger.json()) as any).error.code).toBe('not_found');
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    const bad = await fetch(url, {
      headers: { authorization: `Bearer ${owner.token}`, 'Last-Event-ID': '1; DROP' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('validation_failed');
  });
});

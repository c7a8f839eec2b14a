/**
 * The project write path ([W1]–[W6] in docs/protocol.md), across real replica processes sharing
 * one Redis and one FerretDB: concurrent version-less changes are queued, never raced, and every
 * client that applies events by seq ends in the database's state; a failed write takes no seq;
 * an overloaded project answers `overloaded` at once; a change stored by a replica that is killed
 * before publishing is published once, by another replica.
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
interface Envelope {
  type: string;
  seq: number;
  task?: { id: string; title: string; version: number; description: string };
  taskId?: string;
}

const TASK_EVENTS = ['task:created', 'task:updated', 'task:moved', 'task:deleted'];

/** Every task event a socket receives, as { type, seq, ... }. */
function taskEvents(socket: Socket): Envelope[] {
  const seen: Envelope[] = [];
  for (const type of TASK_EVENTS) socket.on(type, (p: Envelope) => seen.push({ ...p, type }));
  return seen;
}

/** What a client that applies task events strictly by seq ends with: id → task. */
function applyBySeq(events: Envelope[]): Map<string, Envelope['task'] | null> {
  const board = new Map<string, Envelope['task'] | null>();
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (e.type === 'task:deleted') board.set(e.taskId!, null);
    else if (e.task) board.set(e.task.id, e.task);
  }
  return board;
}

describe('the project write path across two replicas', () => {
  const mongo = freshMongoUri('write_path');
  let A: Replica;
  let B: Replica;
  let owner: User;
  let mate: User;
  const sockets: Socket[] = [];

  const open = async (r: Replica, token: string) => {
    const s = socketFor(r.url, token);
    sockets.push(s);
    await connected(s);
    return s;
  };

  async function newProject(): Promise<string> {
    const api = client(A.url);
    const p = await api.post('/api/projects', { name: 'Write path' }, owner.token);
    expect(p.status).toBe(201);
    const projectId = p.body.project.id as string;
    const m = await api.post(
      `/api/projects/${projectId}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    expect(m.status).toBe(201);
    return projectId;
  }

  const seqOf = async (projectId: string) =>
    (await client(B.url).get(`/api/projects/${projectId}`, owner.token)).body.project.seq as number;

  beforeAll(async () => {
    const env = {
      MONGODB_URI: mongo,
      REDIS_URL: inject('redisUrl'),
      // 60 changes from two people in a second: above the default per-person budget.
      RATE_LIMIT_SOCKET_MUTATIONS: '1000',
    };
    [A, B] = await Promise.all([startReplica('wp-a', env), startReplica('wp-b', env)]);
    owner = await registerUser(client(A.url), 'Owner');
    mate = await registerUser(client(A.url), 'Mate');
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('[W2] 60 version-less updates of one task from both replicas at once: all ok, no version_conflict, and a client applying by seq ends in the database state', async () => {
    const projectId = await newProject();
    const [onA, onB] = [await open(A, owner.token), await open(B, mate.token)];
    for (const s of [onA, onB])
      expect((await call(s, 'join:project', { projectId })).ok).toBe(true);
    const seenA = taskEvents(onA);
    const seenB = taskEvents(onB);
    const created = await call(onA, 'task:create', { projectId, task: { title: 'hot card' } });
    expect(created.ok).toBe(true);
    const taskId = created.data.task.id as string;

    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => [
        call(onA, 'task:update', { projectId, taskId, updates: { description: `A${i}` } }, 15_000),
        call(onB, 'task:update', { projectId, taskId, updates: { title: `B${i}` } }, 15_000),
      ]).flat(),
    );
    const errors = acks.filter((a) => !a.ok).map((a) => a.error.code);
    expect(errors).toEqual([]);

    // Versions 1..60 each went to exactly one change, in the order of the seqs.
    const versions = acks.map((a) => a.data.task.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));

    const stored = (await client(A.url).get(`/api/tasks/${taskId}`, owner.token)).body.task;
    expect(stored.version).toBe(60);
    for (const seen of [seenA, seenB]) {
      await waitUntil(
        () => seen.filter((e) => e.type === 'task:updated').length === 60,
        10_000,
        'every update on both replicas',
      );
      const updates = seen.filter((e) => e.type === 'task:updated').sort((a, b) => a.seq - b.seq);
      // [W1] seq order is version order for the task.
      expect(updates.map((e) => e.task!.version)).toEqual(versions);
      const final = applyBySeq(seen).get(taskId)!;
      expect({
        title: final.title,
        description: final.description,
        version: final.version,
      }).toEqual({ title: stored.title, description: stored.description, version: stored.version });
    }
  }, 60_000);

  it('[W2] a change with a stale version gets 409 version_conflict with the current task', async () => {
    const projectId = await newProject();
    const api = client(A.url);
    const t = await api.post(`/api/projects/${projectId}/tasks`, { title: 'v0' }, owner.token);
    const taskId = t.body.task.id as string;
    expect(
      (await api.patch(`/api/tasks/${taskId}`, { title: 'v1', version: 0 }, owner.token)).status,
    ).toBe(200);
    const stale = await client(B.url).patch(
      `/api/tasks/${taskId}`,
      { title: 'late', version: 0 },
      mate.token,
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('version_conflict');
    expect(stale.body.error.details.task).toMatchObject({ title: 'v1', version: 1 });
  });

  it('[W4] failed writes take no seq: the next change is exactly one after, and a resume needs no resync', async () => {
    const projectId = await newProject();
    const api = client(A.url);
    const t = await api.post(`/api/projects/${projectId}/tasks`, { title: 'card' }, owner.token);
    const taskId = t.body.task.id as string;
    const before = await seqOf(projectId);

    const failures = await Promise.all([
      api.patch(`/api/tasks/${taskId}`, { title: 'x', version: 7 }, owner.token), // stale version
      api.post(
        `/api/tasks/${taskId}/move`,
        { status: 'done', afterId: '0'.repeat(24) },
        owner.token,
      ),
      api.post(`/api/projects/${projectId}/members`, { email: mate.user.email }, owner.token),
      api.patch(
        `/api/projects/${projectId}/members/${owner.user.id}`,
        { role: 'member' },
        owner.token,
      ),
    ]);
    expect(failures.map((f) => [f.status, f.body.error?.code])).toEqual([
      [409, 'version_conflict'],
      [400, 'validation_failed'],
      [409, 'already_member'],
      [409, 'last_owner'],
    ]);
    expect(await seqOf(projectId)).toBe(before);

    const ok = await client(B.url).patch(`/api/tasks/${taskId}`, { title: 'after' }, mate.token);
    expect(ok.status).toBe(200);
    expect(await seqOf(projectId)).toBe(before + 1);
    const s = await open(B, mate.token);
    const join = await call(s, 'join:project', { projectId, sinceSeq: before });
    expect(join.ok).toBe(true);
    expect(join.data.resync).toBeUndefined();
    expect(join.data.missed.map((e: Envelope) => [e.type, e.seq])).toEqual([
      ['task:updated', before + 1],
    ]);
  });

  it('[W2] demoting the last two owners at once: exactly one succeeds, the project keeps an owner', async () => {
    const projectId = await newProject();
    const api = client(A.url);
    // mate becomes an owner too: two owners.
    expect(
      (
        await api.patch(
          `/api/projects/${projectId}/members/${mate.user.id}`,
          { role: 'owner' },
          owner.token,
        )
      ).status,
    ).toBe(200);
    const [x, y] = await Promise.all([
      client(A.url).patch(
        `/api/projects/${projectId}/members/${mate.user.id}`,
        { role: 'member' },
        owner.token,
      ),
      client(B.url).patch(
        `/api/projects/${projectId}/members/${owner.user.id}`,
        { role: 'member' },
        mate.token,
      ),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    const members = (await api.get(`/api/projects/${projectId}/members`, owner.token)).body.members;
    expect(members.filter((m: { role: string }) => m.role === 'owner')).toHaveLength(1);
  });
});

describe('an overloaded project', () => {
  let A: Replica;
  let owner: User;

  beforeAll(async () => {
    A = await startReplica('wp-overload', {
      MONGODB_URI: freshMongoUri('write_overload'),
      REDIS_URL: inject('redisUrl'),
      WRITE_QUEUE_LIMIT: '5',
    });
    owner = await registerUser(client(A.url), 'Owner');
  });
  afterAll(async () => {
    await A?.stop();
  });

  it('[W3] 40 creates at once with a queue of 5: each is stored or refused at once with overloaded and a retry hint; the seqs have no hole', async () => {
    const api = client(A.url);
    const projectId = (await api.post('/api/projects', { name: 'Busy' }, owner.token)).body.project
      .id as string;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api.post(`/api/projects/${projectId}/tasks`, { title: `t${i}` }, owner.token),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(created.length + refused.length).toBe(40);
    expect(created.length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('overloaded');
      expect(r.body.error.details.retryAfterMs).toBeGreaterThan(0);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const tasks = (await api.get(`/api/projects/${projectId}/tasks`, owner.token)).body.tasks;
    expect(tasks).toHaveLength(created.length);
    // One seq per stored change, none for the refused ones.
    expect((await api.get(`/api/projects/${projectId}`, owner.token)).body.project.seq).toBe(
      created.length,
    );
  });
});

describe('a replica killed right after a write, before publishing it', () => {
  const mongo = freshMongoUri('write_outbox');
  const env = {
    MONGODB_URI: mongo,
    REDIS_URL: inject('redisUrl'),
    WRITE_LOCK_TTL: '1000ms',
    OUTBOX_SWEEP: '500ms',
  };
  let A: Replica;
  let B: Replica;
  let owner: User;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    [A, B] = await Promise.all([
      startReplica('wp-dies', { ...env, FAILPOINT: 'die-after-write:task:created' }),
      startReplica('wp-lives', env),
    ]);
    owner = await registerUser(client(B.url), 'Owner');
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('[W5] the stored change is published once, by the other replica, with the next seq', async () => {
    const api = client(B.url);
    const projectId = (await api.post('/api/projects', { name: 'Outbox' }, owner.token)).body
      .project.id as string;
    const s = socketFor(B.url, owner.token);
    sockets.push(s);
    await connected(s);
    expect((await call(s, 'join:project', { projectId })).ok).toBe(true);
    const created = collect<{ task: { title: string }; seq: number }>(s, 'task:created');
    const before = (await api.get(`/api/projects/${projectId}`, owner.token)).body.project.seq;

    // The create reaches A, which stores the task and dies before publishing.
    const dying = await client(A.url)
      .post(`/api/projects/${projectId}/tasks`, { title: 'stored then killed' }, owner.token)
      .catch((err: unknown) => err);
    expect(dying).toBeInstanceOf(Error);
    expect((await A.exited).signal).toBe('SIGKILL');
    const tasks = (await api.get(`/api/projects/${projectId}/tasks`, owner.token)).body.tasks;
    expect(tasks.map((t: { title: string }) => t.title)).toEqual(['stored then killed']);

    // B's sweep finds the record once A's lease has expired, and publishes it.
    await waitUntil(
      () => created.some((e) => e.task.title === 'stored then killed'),
      10_000,
      'the stranded task:created on B',
    );
    // Sentinel: a change made after it arrives after it; the stranded one came exactly once.
    const sentinel = await call(s, 'task:create', { projectId, task: { title: 'sentinel' } });
    expect(sentinel.ok).toBe(true);
    await waitUntil(
      () => created.some((e) => e.task.title === 'sentinel'),
      5000,
      'the sentinel task:created',
    );
    expect(created.map((e) => [e.task.title, e.seq])).toEqual([
      ['stored then killed', before + 1],
      ['sentinel', before + 2],
    ]);

    // A restarted A drains nothing twice.
    A = await startReplica('wp-dies-again', env);
    const again = await call(s, 'task:create', { projectId, task: { title: 'second sentinel' } });
    expect(again.ok).toBe(true);
    await waitUntil(
      () => created.some((e) => e.task.title === 'second sentinel'),
      5000,
      'the second sentinel',
    );
    expect(created.map((e) => e.task.title)).toEqual([
      'stored then killed',
      'sentinel',
      'second sentinel',
    ]);
  }, 60_000);
});

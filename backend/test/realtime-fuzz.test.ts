/**
 * Socket input that is not a payload problem: events without an acknowledgement, unknown event
 * names, frames over SOCKET_MAX_PAYLOAD and the per-socket rate limit. The generated malformed
 * payloads over every client event are fuzz-socket.test.ts (fast-check, FUZZ_SEED).
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('malformed socket input', () => {
  let R: Replica;
  const sockets: Socket[] = [];
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let mate: Awaited<ReturnType<typeof registerUser>>;
  let projectId: string;
  let channelId: string;
  let taskId: string;
  let fuzzer: Socket;
  let observer: Socket;
  const observed: string[] = [];

  const open = async (token: string) => {
    const s = socketFor(R.url, token);
    sockets.push(s);
    await connected(s);
    return s;
  };

  async function snapshot() {
    const api = client(R.url);
    const [tasks, messages, project, members, channels] = await Promise.all([
      api.get(`/api/projects/${projectId}/tasks`, owner.token),
      api.get(`/api/channels/${channelId}/messages?limit=100`, owner.token),
      api.get(`/api/projects/${projectId}`, owner.token),
      api.get(`/api/projects/${projectId}/members`, owner.token),
      api.get(`/api/projects/${projectId}/channels`, owner.token),
    ]);
    for (const r of [tasks, messages, project, members, channels]) expect(r.status).toBe(200);
    return {
      tasks: tasks.body.tasks,
      messages: messages.body.messages,
      seq: project.body.project.seq as number,
      project: project.body.project,
      members: members.body.members,
      channels: channels.body.channels,
    };
  }

  beforeAll(async () => {
    R = await startReplica('fuzz', {
      MONGODB_URI: freshMongoUri('rt_fuzz'),
      REDIS_URL: inject('redisUrl'),
      // Every test file registers from 127.0.0.1, and the per-IP budget lives in the shared Redis.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      RATE_LIMIT_SOCKET_MUTATIONS: '100000',
      RATE_LIMIT_SOCKET_CHAT: '100000',
      RATE_LIMIT_SOCKET_TYPING: '100000',
      // Every test file connects from 127.0.0.1: the per-address handshake budget is not under test.
      RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
    });
    const api = client(R.url);
    owner = await registerUser(api, 'Owner');
    mate = await registerUser(api, 'Mate');
    projectId = (await api.post('/api/projects', { name: 'Fuzz board' }, owner.token)).body.project
      .id;
    await api.post(
      `/api/projects/${projectId}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    channelId = (await api.get(`/api/projects/${projectId}/channels`, owner.token)).body.channels[0]
      .id;
    for (const title of ['alpha', 'beta', 'gamma']) {
      const t = await api.post(`/api/projects/${projectId}/tasks`, { title }, owner.token);
      expect(t.status).toBe(201);
      taskId ??= t.body.task.id;
    }
    await api.post(`/api/channels/${channelId}/messages`, { content: 'hello' }, owner.token);

    fuzzer = await open(owner.token);
    expect((await call(fuzzer, 'join:project', projectId)).ok).toBe(true);
    expect((await call(fuzzer, 'chat:join', channelId)).ok).toBe(true);
    observer = await open(mate.token);
    expect((await call(observer, 'join:project', projectId)).ok).toBe(true);
    expect((await call(observer, 'chat:join', channelId)).ok).toBe(true);
    observer.onAny((event: string) => observed.push(event));
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await R?.stop();
  });

  it('[R1] events without an acknowledgement are ignored: nothing stored, no crash', async () => {
    const before = await snapshot();
    observed.length = 0;
    fuzzer.emit('task:create', { projectId, task: { title: 'no ack' } });
    fuzzer.emit('chat:message', { channelId, content: 'no ack' });
    fuzzer.emit('task:delete', { projectId, taskId });
    fuzzer.emit('task:create', { $gt: '' });
    fuzzer.emit('join:project', null);
    fuzzer.emit('chat:typing');
    // Ordered on one connection: once this answers, the ones above have been handled.
    const probe = await call(fuzzer, 'join:project', projectId);
    expect(probe.ok).toBe(true);
    expect(await snapshot()).toEqual(before);
    expect(fuzzer.connected).toBe(true);
    expect(R.exitCode()).toBeNull();
    // The sentinel: a change sent after them reaches the observer, and nothing before it did.
    const created = collect(observer, 'task:created');
    const sentinel = await call(fuzzer, 'task:create', { projectId, task: { title: 'sentinel' } });
    expect(sentinel.ok).toBe(true);
    await waitUntil(() => created.length === 1, 5000, 'the sentinel task:created');
    expect(created[0].seq).toBe(before.seq + 1);
    expect(observed).toEqual(['task:created']);
  });

  it('[R1] an unknown event name with an acknowledgement gets unknown_event; without one it is ignored', async () => {
    for (const name of [
      'task:explode',
      'domain-event',
      'room:users',
      'session:ending',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'x'.repeat(500),
    ]) {
      const ack = await call(fuzzer, name, { projectId });
      expect(ack, name.slice(0, 40)).toMatchObject({ ok: false, error: { code: 'unknown_event' } });
      expect(typeof ack.error.message).toBe('string');
      expect(ack.error.message.length).toBeLessThan(100);
      fuzzer.emit(name, { projectId });
    }
    // "error" is special for an EventEmitter: a client sending it must not take the replica down.
    const errAck = await call(fuzzer, 'error', { projectId });
    expect(errAck).toMatchObject({ ok: false, error: { code: 'unknown_event' } });
    fuzzer.emit('error', new Error('boom').message);
    const probe = await call(fuzzer, 'join:project', projectId);
    expect(probe.ok).toBe(true);
    expect(fuzzer.connected).toBe(true);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);
  });

  it('[R2] a frame over SOCKET_MAX_PAYLOAD drops that connection only; the replica stays healthy', async () => {
    const big = await open(owner.token);
    expect((await call(big, 'join:project', projectId)).ok).toBe(true);
    const gone = new Promise<string>((resolve) => big.once('disconnect', resolve));
    let answered = false;
    big.emit('chat:message', { channelId, content: 'x'.repeat(200_000) }, () => {
      answered = true;
    });
    const reason = await Promise.race([gone, sleep(5000).then(() => 'still connected')]);
    expect(reason).toMatch(/^transport (close|error)$/);
    expect(answered).toBe(false);

    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);
    expect(fuzzer.connected).toBe(true);
    expect(observer.connected).toBe(true);
    const fresh = await open(owner.token);
    expect((await call(fresh, 'join:project', projectId)).ok).toBe(true);
    const history = await client(R.url).get(`/api/channels/${channelId}/messages`, owner.token);
    expect(history.body.messages.some((m: { content: string }) => m.content.length > 4000)).toBe(
      false,
    );
  });
});

describe('socket rate limit', () => {
  let R: Replica;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    R = await startReplica('fuzz-limits', {
      MONGODB_URI: freshMongoUri('rt_limits'),
      REDIS_URL: inject('redisUrl'),
      // Every test file registers from 127.0.0.1, and the per-IP budget lives in the shared Redis.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      RATE_LIMIT_SOCKET_MUTATIONS: '3',
      RATE_LIMIT_SOCKET_CHAT: '2',
      RATE_LIMIT_SOCKET_TYPING: '2',
      // Every test file connects from 127.0.0.1: the per-address handshake budget is not under test.
      RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await R?.stop();
  });

  it('[R4] answers rate_limited past the budget and stores nothing more', async () => {
    const api = client(R.url);
    const owner = await registerUser(api, 'Busy');
    const projectId = (await api.post('/api/projects', { name: 'Limits' }, owner.token)).body
      .project.id;
    const channelId = (await api.get(`/api/projects/${projectId}/channels`, owner.token)).body
      .channels[0].id;
    const s = socketFor(R.url, owner.token);
    sockets.push(s);
    await connected(s);
    expect((await call(s, 'join:project', projectId)).ok).toBe(true);
    expect((await call(s, 'chat:join', channelId)).ok).toBe(true);

    const creates = [];
    for (let i = 0; i < 5; i++)
      creates.push(await call(s, 'task:create', { projectId, task: { title: `t${i}` } }));
    expect(creates.map((a) => a.ok)).toEqual([true, true, true, false, false]);
    for (const a of creates.slice(3)) {
      expect(a).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      expect(typeof a.error.message).toBe('string');
    }
    const tasks = await api.get(`/api/projects/${projectId}/tasks`, owner.token);
    expect(tasks.body.tasks.map((t: { title: string }) => t.title)).toEqual(['t0', 't1', 't2']);

    const chats = [];
    for (let i = 0; i < 3; i++)
      chats.push(await call(s, 'chat:message', { channelId, content: `m${i}` }));
    expect(chats.map((a) => a.ok)).toEqual([true, true, false]);
    expect(chats[2]).toMatchObject({ ok: false, error: { code: 'rate_limited' } });

    const typing = [];
    for (let i = 0; i < 3; i++)
      typing.push(await call(s, 'chat:typing', { channelId, isTyping: true }));
    expect(typing.map((a) => a.ok)).toEqual([true, true, false]);
    expect(typing[2]).toMatchObject({ ok: false, error: { code: 'rate_limited' } });

    expect(s.connected).toBe(true);
    expect(R.exitCode()).toBeNull();
  });
});

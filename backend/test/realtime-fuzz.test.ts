/**
 * Bad input over the socket: 1,000 malformed payloads (seeded, so a failure replays exactly),
 * spread over every client event. Each gets `{ ok: false, error: { code, message } }`, nothing
 * is stored or broadcast, and the replica keeps serving. Plus: oversized frames, events without
 * an acknowledgement, unknown event names and the per-socket rate limit.
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
import { mulberry32 } from './helpers/random.js';

const SEED = 0xc0ffee;
const CASES = 1000;
const BATCH = 25;

/** The seeded PRNG with the helpers the fuzzer draws from. */
function prng(seed: number) {
  const next = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- building blocks of bad input ----------
const SAFE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $.{}[]-_';

function huge(rng: Rng): string {
  const n = rng.int(20_000, 60_000);
  const unit = Array.from({ length: 97 }, () => rng.pick([...SAFE])).join('');
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

function deep(rng: Rng): unknown {
  const depth = rng.int(50, 2000);
  const arrays = rng.next() < 0.5;
  let v: unknown = arrays ? [] : {};
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
}

/** Objects whose own keys are __proto__, constructor or prototype (as JSON.parse makes them). */
function polluting(rng: Rng): Record<string, unknown> {
  return JSON.parse(
    rng.pick([
      '{"__proto__":{"polluted":"yes","isAdmin":true}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"prototype":{"polluted":"yes"}}',
      '{"__proto__":{"toString":"x"},"constructor":{"name":"x"}}',
    ]),
  ) as Record<string, unknown>;
}

const operators = (id: string): unknown[] => [
  { $gt: '' },
  { $ne: null },
  { $regex: '.*' },
  { $where: 'sleep(1000) || true' },
  { $exists: true },
  { $in: [id] },
  { $gt: '', $lt: 'z' },
];

const scalarsNoNull = [0, 1, -1, 3.14, 1e308, true, false, [], [1, 2], ['a'], {}];
const scalars = [...scalarsNoNull, null];

function badIds(rng: Rng, id: string): string[] {
  return [
    '',
    'abc',
    'g'.repeat(24),
    id.slice(0, 23),
    `${id}0`,
    ` ${id.slice(1)}`,
    `${id}\n`,
    `ObjectId("${id}")`,
    `${id.slice(0, 23)}é`,
    '../../etc/passwd',
    '{"$gt":""}',
    'undefined',
    'null',
    String(rng.int(0, 1e9)),
  ];
}

/** A well-formed id that names nothing. */
function unknownId(rng: Rng): string {
  return Array.from({ length: 24 }, () => rng.pick([...'0123456789abcdef'])).join('');
}

type Kind =
  | 'id'
  | 'nullableId'
  | 'title'
  | 'content'
  | 'description'
  | 'clientId'
  | 'status'
  | 'priority'
  | 'bool'
  | 'int'
  | 'task'
  | 'updates'
  | 'labels'
  | 'subtasks'
  | 'date';

/** A value that is certainly invalid for a field of this kind. */
function invalidFor(kind: Kind, rng: Rng, id: string): unknown {
  const common = () => rng.pick([...operators(id), deep(rng), polluting(rng)]);
  const oneOf = (xs: unknown[]) => (rng.next() < 0.25 ? common() : rng.pick(xs));
  switch (kind) {
    case 'id':
      return oneOf([...scalars, ...badIds(rng, id), huge(rng)]);
    case 'nullableId':
      return oneOf([...scalarsNoNull, ...badIds(rng, id), huge(rng)]);
    case 'title':
    case 'content':
      return oneOf([...scalars, '', '   ', '\n\t', huge(rng)]);
    case 'description':
      return oneOf([...scalars, huge(rng)]);
    case 'clientId':
      return oneOf([...scalars, '', 'x'.repeat(101), huge(rng)]);
    case 'status':
    case 'priority':
      return oneOf([...scalars, 'DONE', 'Todo', 'blocked', 'extreme', '', ' todo', huge(rng)]);
    case 'bool':
      return oneOf(['true', 'false', 1, 0, null, [], {}, 'yes', huge(rng)]);
    case 'int':
      return oneOf([-1, -0.5, 1.5, '3', '0', null, true, [], {}, [0], huge(rng)]);
    case 'task':
      return oneOf([
        ...scalars.filter((v) => !(typeof v === 'object' && v !== null && !Array.isArray(v))),
        {},
        { title: 'ok', evil: 1 },
        [{ title: 'x' }],
        'a task',
        huge(rng),
      ]);
    case 'updates':
      return oneOf([
        ...scalars,
        'title',
        { title: 'ok', status: 'done' },
        { version: 1 },
        huge(rng),
      ]);
    case 'labels':
      return oneOf([
        'a',
        [1],
        [''],
        Array.from({ length: 21 }, (_, i) => `l${i}`),
        [huge(rng)],
        null,
        [['nested']],
        {},
      ]);
    case 'subtasks':
      return oneOf([
        [{ title: 1 }],
        [{}],
        [{ title: 'x', done: 'yes' }],
        [{ title: 'x', extra: 1 }],
        'x',
        null,
        Array.from({ length: 51 }, () => ({ title: 's' })),
      ]);
    case 'date':
      return oneOf(['yesterday', '2024-13-45', '2024-02-30T25:00:00Z', 12345, true, {}, huge(rng)]);
  }
}

interface Field {
  path: string[];
  kind: Kind;
  required: boolean;
}

interface EventSpec {
  event: string;
  /** A valid payload: every mutation below must make it invalid. */
  base: () => unknown;
  fields: Field[];
  /** A well-formed payload naming something that does not exist, and the answer it gets. */
  unknown?: (rng: Rng) => { payload: unknown; code: string };
}

type Mutation = 'replace' | 'wrongType' | 'missing' | 'extraKey' | 'unknownId';

interface Case {
  event: string;
  mutation: Mutation;
  payload: unknown;
  code: string;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}
function deletePath(obj: Record<string, unknown>, path: string[]) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  delete o[path[path.length - 1]!];
}

/** Adds an own enumerable key, __proto__ included, as JSON.parse would. */
function addOwn(obj: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function makeCase(spec: EventSpec, rng: Rng, id: string): Case {
  const objectBase = typeof spec.base() === 'object';
  const choices: Mutation[] = ['replace'];
  if (objectBase) choices.push('wrongType', 'wrongType', 'wrongType', 'missing', 'extraKey');
  if (spec.unknown) choices.push('unknownId');
  const mutation = rng.pick(choices);
  const v = 'validation_failed';
  switch (mutation) {
    case 'replace': {
      // The whole payload is something else: a scalar, an array, an operator, a deep or a
      // polluting object, a bad id string, a huge string, or the right fields in the wrong shape.
      const payload = rng.pick([
        ...scalars,
        ...operators(id),
        deep(rng),
        polluting(rng),
        ...badIds(rng, id),
        huge(rng),
        objectBase ? id : { projectId: id, channelId: id },
        objectBase ? [spec.base()] : [id],
      ]);
      return { event: spec.event, mutation, payload, code: v };
    }
    case 'wrongType': {
      const f = rng.pick(spec.fields);
      const payload = clone(spec.base()) as Record<string, unknown>;
      setPath(payload, f.path, invalidFor(f.kind, rng, id));
      return { event: spec.event, mutation, payload, code: v };
    }
    case 'missing': {
      const required = spec.fields.filter((f) => f.required);
      const payload = clone(spec.base()) as Record<string, unknown>;
      if (required.length === 0) {
        // join:project's only required field: drop it.
        return { event: spec.event, mutation, payload: {}, code: v };
      }
      deletePath(payload, rng.pick(required).path);
      return { event: spec.event, mutation, payload, code: v };
    }
    case 'extraKey': {
      const payload = clone(spec.base()) as Record<string, unknown>;
      const nested = spec.fields.filter((f) => f.kind === 'task' || f.kind === 'updates');
      const target =
        nested.length > 0 && rng.next() < 0.4
          ? (payload[nested[0]!.path[0]!] as Record<string, unknown>)
          : payload;
      const key = rng.pick([
        '__proto__',
        'constructor',
        'prototype',
        '$where',
        '$set',
        'isAdmin',
        'role',
        'userId',
        'seq',
        'x'.repeat(rng.int(1, 40)),
      ]);
      addOwn(target, key, rng.pick([1, 'x', true, null, { polluted: 'yes' }, { $gt: '' }]));
      return { event: spec.event, mutation, payload, code: v };
    }
    case 'unknownId': {
      const { payload, code } = spec.unknown!(rng);
      return { event: spec.event, mutation, payload, code };
    }
  }
}

/** The deepest bracket nesting of a JSON text, not counting brackets inside strings. */
function nesting(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') max = Math.max(max, ++depth);
    else if (ch === '}' || ch === ']') depth--;
  }
  return max;
}

function isErrorAck(ack: unknown): boolean {
  if (typeof ack !== 'object' || ack === null) return false;
  const a = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  return (
    a.ok === false &&
    typeof a.error === 'object' &&
    a.error !== null &&
    typeof a.error.code === 'string' &&
    a.error.code.length > 0 &&
    typeof a.error.message === 'string'
  );
}

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

  it(`${CASES} malformed payloads over every client event: all refused, nothing changes`, async () => {
    const before = await snapshot();
    const rng = prng(SEED);
    const pid = () => projectId;
    const specs: EventSpec[] = [
      {
        event: 'join:project',
        base: () => ({ projectId: pid(), sinceSeq: 0 }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['sinceSeq'], kind: 'int', required: false },
        ],
        unknown: (r) => ({ payload: unknownId(r), code: 'not_found' }),
      },
      { event: 'leave:project', base: () => pid(), fields: [] },
      {
        event: 'task:create',
        base: () => ({
          projectId: pid(),
          task: {
            title: 'fuzz',
            description: 'd',
            status: 'todo',
            priority: 'low',
            assignee: null,
            dueDate: '2030-01-01',
            labels: ['x'],
            subtasks: [{ title: 's', done: false }],
          },
          clientId: 'c1',
        }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['task'], kind: 'task', required: true },
          { path: ['task', 'title'], kind: 'title', required: true },
          { path: ['task', 'description'], kind: 'description', required: false },
          { path: ['task', 'status'], kind: 'status', required: false },
          { path: ['task', 'priority'], kind: 'priority', required: false },
          { path: ['task', 'assignee'], kind: 'nullableId', required: false },
          { path: ['task', 'dueDate'], kind: 'date', required: false },
          { path: ['task', 'labels'], kind: 'labels', required: false },
          { path: ['task', 'subtasks'], kind: 'subtasks', required: false },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        unknown: (r) => ({
          payload: { projectId: unknownId(r), task: { title: 'ghost' } },
          code: 'not_found',
        }),
      },
      {
        event: 'task:update',
        base: () => ({
          projectId: pid(),
          taskId,
          updates: { title: 'renamed', priority: 'high', labels: ['y'] },
          version: 0,
          clientId: 'c2',
        }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['taskId'], kind: 'id', required: true },
          { path: ['updates'], kind: 'updates', required: true },
          { path: ['updates', 'title'], kind: 'title', required: false },
          { path: ['updates', 'priority'], kind: 'priority', required: false },
          { path: ['updates', 'labels'], kind: 'labels', required: false },
          { path: ['version'], kind: 'int', required: false },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        unknown: (r) => ({
          payload:
            r.next() < 0.5
              ? { projectId: pid(), taskId: unknownId(r), updates: { title: 'ghost' } }
              : { projectId: unknownId(r), taskId, updates: { title: 'ghost' } },
          code: 'not_found',
        }),
      },
      {
        event: 'task:move',
        base: () => ({
          projectId: pid(),
          taskId,
          fromStatus: 'todo',
          toStatus: 'done',
          newIndex: 0,
          beforeId: null,
          clientId: 'c3',
        }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['taskId'], kind: 'id', required: true },
          { path: ['fromStatus'], kind: 'status', required: false },
          { path: ['toStatus'], kind: 'status', required: true },
          { path: ['newIndex'], kind: 'int', required: false },
          { path: ['beforeId'], kind: 'nullableId', required: false },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        unknown: (r) => ({
          payload:
            r.next() < 0.5
              ? { projectId: pid(), taskId: unknownId(r), toStatus: 'done' }
              : { projectId: unknownId(r), taskId, toStatus: 'done' },
          code: 'not_found',
        }),
      },
      {
        event: 'task:delete',
        base: () => ({ projectId: pid(), taskId, clientId: 'c4' }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['taskId'], kind: 'id', required: true },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        unknown: (r) => ({
          payload:
            r.next() < 0.5
              ? { projectId: pid(), taskId: unknownId(r) }
              : { projectId: unknownId(r), taskId },
          code: 'not_found',
        }),
      },
      {
        event: 'chat:join',
        base: () => channelId,
        fields: [],
        unknown: (r) => ({ payload: unknownId(r), code: 'not_found' }),
      },
      { event: 'chat:leave', base: () => channelId, fields: [] },
      {
        event: 'chat:message',
        base: () => ({ channelId, content: 'fuzz message', clientId: 'c5' }),
        fields: [
          { path: ['channelId'], kind: 'id', required: true },
          { path: ['content'], kind: 'content', required: true },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        unknown: (r) => ({
          payload: { channelId: unknownId(r), content: 'ghost' },
          code: 'not_found',
        }),
      },
      {
        event: 'chat:typing',
        base: () => ({ channelId, isTyping: true }),
        fields: [
          { path: ['channelId'], kind: 'id', required: true },
          { path: ['isTyping'], kind: 'bool', required: true },
        ],
        // A channel this socket has not joined (none by that id exists either).
        unknown: (r) => ({
          payload: { channelId: unknownId(r), isTyping: true },
          code: 'forbidden',
        }),
      },
    ];

    const cases: Case[] = [];
    for (let i = 0; i < CASES; i++) cases.push(makeCase(specs[i % specs.length]!, rng, projectId));

    // The payloads really contain each kind of bad input the contract names.
    const json = cases.map((c) => JSON.stringify(c.payload) ?? '');
    const kinds = {
      huge: json.filter((j) => j.length >= 20_000).length,
      operator: json.filter((j) => /"\$(gt|ne|regex|where|exists|in|set)"/.test(j)).length,
      pollution: json.filter((j) => /"(__proto__|constructor|prototype)"/.test(j)).length,
      deep: json.filter((j) => nesting(j) >= 50).length,
      nonObject: cases.filter((c) => typeof c.payload !== 'object' || c.payload === null).length,
      array: cases.filter((c) => Array.isArray(c.payload)).length,
    };
    console.log(`[fuzz] seed ${SEED}: ${JSON.stringify(kinds)}`);
    for (const [kind, n] of Object.entries(kinds)) expect(n, kind).toBeGreaterThanOrEqual(10);
    expect(Math.max(...json.map((j) => j.length))).toBeLessThan(100_000);

    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (let i = 0; i < cases.length; i += BATCH) {
      const batch = cases.slice(i, i + BATCH);
      const acks = await Promise.all(
        batch.map((c) => call(fuzzer, c.event, c.payload, 15_000).catch((e: Error) => e.message)),
      );
      batch.forEach((c, j) => {
        const ack = acks[j];
        tally.set(`${c.event}/${c.mutation}`, (tally.get(`${c.event}/${c.mutation}`) ?? 0) + 1);
        if (!isErrorAck(ack) || ack.error.code !== c.code) {
          const shown = JSON.stringify(c.payload)?.slice(0, 200);
          failures.push(
            `#${i + j} ${c.event} ${c.mutation} ${shown} → ${JSON.stringify(ack)?.slice(0, 300)}`,
          );
        }
      });
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(fuzzer.connected).toBe(true);

    // The seeded generator exercised every kind of damage that applies to each event.
    for (const s of specs) {
      const objectBase = typeof s.base() === 'object';
      const applicable = ['replace'];
      if (objectBase) applicable.push('wrongType', 'missing', 'extraKey');
      if (s.unknown) applicable.push('unknownId');
      const seen = applicable.filter((m) => (tally.get(`${s.event}/${m}`) ?? 0) > 0);
      expect(seen, s.event).toEqual(applicable);
    }

    const after = await snapshot();
    expect(after).toEqual(before);
    expect(observed).toEqual([]);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);

    // A valid change still works afterwards, and carries no polluted property.
    const created = collect(observer, 'task:created');
    const ok = await call(fuzzer, 'task:create', { projectId, task: { title: 'after fuzz' } });
    expect(ok.ok).toBe(true);
    expect(ok.data.task.title).toBe('after fuzz');
    expect(ok.data.task.polluted).toBeUndefined();
    expect(ok.data.task.isAdmin).toBeUndefined();
    await waitUntil(() => created.length === 1, 5000, 'task:created after the fuzz');
    expect(created[0].seq).toBe(before.seq + 1);
  }, 120_000);

  it('events without an acknowledgement are ignored: nothing stored, no crash', async () => {
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
    await sleep(300);
    expect(await snapshot()).toEqual(before);
    expect(observed).toEqual([]);
    expect(fuzzer.connected).toBe(true);
    expect(R.exitCode()).toBeNull();
  });

  it('an unknown event name with an acknowledgement gets unknown_event; without one it is ignored', async () => {
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

  it('a frame over SOCKET_MAX_PAYLOAD drops that connection only; the replica stays healthy', async () => {
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
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await R?.stop();
  });

  it('answers rate_limited past the budget and stores nothing more', async () => {
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

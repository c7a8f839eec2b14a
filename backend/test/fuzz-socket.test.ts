/**
 * Property-based bad input over the socket (issue 8), with fast-check: 6,000 damaged payloads
 * spread over every client → server event. Each gets one structured error ack
 * `{ ok: false, error: { code, message } }` ([R1]): `validation_failed` for anything the strict
 * schemas refuse ([R2]), `not_found` for a well-formed payload naming nothing ([R3]). Nothing
 * changes (every document of the database is the same before and after), nothing is broadcast
 * (an observer in the project and its channel receives only the sentinel event sent after the
 * fuzz), and nothing crashes (the replica process is alive, answers /healthz, and a valid change
 * still works and carries no polluted property).
 *
 * Also: generated handshake credentials are refused with `unauthorized` ([C1]), and generated raw
 * Socket.IO packets (any packet type, namespace, ack id and arguments, or no packet at all) are
 * answered, ignored or end their connection, never crash the replica nor change anything.
 *
 * The seed is FUZZ_SEED (default helpers/fuzz.ts DEFAULT_FUZZ_SEED) and is printed; a failure
 * replays with `FUZZ_SEED=<seed> npx vitest run backend/test/fuzz-socket.test.ts`.
 */
import fc from 'fast-check';
import type mongoose from 'mongoose';
import type { z } from 'zod';
import {
  channelIdPayload,
  chatMessagePayload,
  chatTypingPayload,
  joinProjectPayload,
  projectIdPayload,
  taskCreatePayload,
  taskDeletePayload,
  taskMovePayload,
  taskUpdatePayload,
} from '@collabflow/shared';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { client, freshMongoUri } from './helpers/api.js';
import {
  call,
  collect,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';
import {
  fuzzProject,
  type FuzzProject,
  casesFor,
  damaged,
  dbSnapshot,
  fuzzSeed,
  hugeString,
  isStructuredAck,
  operatorObject,
  openDb,
  prototypeObject,
  shown,
  tally,
  unknownId,
  type Target,
} from './helpers/fuzz.js';

const SEED = fuzzSeed();
const CASES = 6000;
const HANDSHAKES = 400;
const PACKETS = 600;
/** Acks awaited at once on the one fuzzing connection. */
const BATCH = 50;

/** A socket whose handshake sends `auth` as given (socketFor always sends `{ token }`). */
function connectWith(url: string, auth: Record<string, unknown>): Socket {
  return connectSocket(url, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
}

const SCHEMAS: Record<string, z.ZodType> = {
  'join:project': joinProjectPayload,
  'leave:project': projectIdPayload,
  'task:create': taskCreatePayload,
  'task:update': taskUpdatePayload,
  'task:move': taskMovePayload,
  'task:delete': taskDeletePayload,
  'chat:join': channelIdPayload,
  'chat:leave': channelIdPayload,
  'chat:message': chatMessagePayload,
  'chat:typing': chatTypingPayload,
};

describe('property-based socket input', () => {
  let R: Replica;
  let db: mongoose.Connection;
  const sockets: Socket[] = [];
  let owner: FuzzProject['owner'];
  let mate: FuzzProject['owner'];
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

  beforeAll(async () => {
    const uri = freshMongoUri('fuzz_socket');
    R = await startReplica('fuzz-socket', {
      MONGODB_URI: uri,
      REDIS_URL: inject('redisUrl'),
      RATE_LIMIT_SOCKET_MUTATIONS: '1000000',
      RATE_LIMIT_SOCKET_CHAT: '1000000',
      RATE_LIMIT_SOCKET_TYPING: '1000000',
      // Every test file connects from 127.0.0.1: the per-address handshake budget is not under test.
      RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
      // The raw-packet fuzz reconnects after every packet that ends its connection.
      MAX_SOCKETS_PER_USER: '1000',
    });
    db = await openDb(uri);
    const api = client(R.url);
    ({ owner, mate, projectId, channelId } = await fuzzProject(R.url));
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
    await db?.close();
    await R?.stop();
  });

  /** Every client event: a valid payload and the kind of each field. */
  function socketTargets(): Target[] {
    const idOrUnknown = fc.oneof(fc.constant(projectId), unknownId);
    return [
      {
        name: 'join:project',
        valid: () => ({ projectId, sinceSeq: 0 }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['sinceSeq'], kind: 'nonNegativeInt', required: false },
        ],
        keys: { '': ['projectId', 'sinceSeq'] },
        unknown: unknownId.map((id) => ({ payload: id, code: 'not_found' })),
      },
      { name: 'leave:project', valid: () => projectId, fields: [], keys: {} },
      {
        name: 'task:create',
        valid: () => ({
          projectId,
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
          { path: ['task'], kind: 'object', required: true },
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
        keys: {
          '': ['projectId', 'task', 'clientId'],
          task: [
            'title',
            'description',
            'status',
            'priority',
            'assignee',
            'dueDate',
            'labels',
            'subtasks',
          ],
        },
        unknown: unknownId.map((id) => ({
          payload: { projectId: id, task: { title: 'ghost' } },
          code: 'not_found',
        })),
      },
      {
        name: 'task:update',
        valid: () => ({
          projectId,
          taskId,
          updates: { title: 'renamed', priority: 'high', labels: ['y'] },
          version: 0,
          clientId: 'c2',
        }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['taskId'], kind: 'id', required: true },
          { path: ['updates'], kind: 'object', required: true },
          { path: ['updates', 'title'], kind: 'title', required: false },
          { path: ['updates', 'priority'], kind: 'priority', required: false },
          { path: ['updates', 'labels'], kind: 'labels', required: false },
          { path: ['version'], kind: 'nonNegativeInt', required: false },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        keys: {
          '': ['projectId', 'taskId', 'updates', 'version', 'clientId'],
          updates: [
            'title',
            'description',
            'priority',
            'assignee',
            'dueDate',
            'labels',
            'subtasks',
          ],
        },
        unknown: fc.tuple(idOrUnknown, unknownId).map(([pid, tid]) => ({
          payload: { projectId: pid, taskId: tid, updates: { title: 'ghost' } },
          code: 'not_found',
        })),
      },
      {
        name: 'task:move',
        valid: () => ({
          projectId,
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
          { path: ['newIndex'], kind: 'nonNegativeInt', required: false },
          { path: ['beforeId'], kind: 'nullableId', required: false },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        keys: {
          '': [
            'projectId',
            'taskId',
            'fromStatus',
            'toStatus',
            'newIndex',
            'beforeId',
            'afterId',
            'version',
            'clientId',
          ],
        },
        unknown: fc.tuple(idOrUnknown, unknownId).map(([pid, tid]) => ({
          payload: { projectId: pid, taskId: tid, toStatus: 'done' },
          code: 'not_found',
        })),
      },
      {
        name: 'task:delete',
        valid: () => ({ projectId, taskId, clientId: 'c4' }),
        fields: [
          { path: ['projectId'], kind: 'id', required: true },
          { path: ['taskId'], kind: 'id', required: true },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        keys: { '': ['projectId', 'taskId', 'clientId'] },
        unknown: fc.tuple(idOrUnknown, unknownId).map(([pid, tid]) => ({
          payload: { projectId: pid, taskId: tid },
          code: 'not_found',
        })),
      },
      {
        name: 'chat:join',
        valid: () => channelId,
        fields: [],
        keys: {},
        unknown: unknownId.map((id) => ({ payload: id, code: 'not_found' })),
      },
      { name: 'chat:leave', valid: () => channelId, fields: [], keys: {} },
      {
        name: 'chat:message',
        valid: () => ({ channelId, content: 'fuzz message', clientId: 'c5' }),
        fields: [
          { path: ['channelId'], kind: 'id', required: true },
          { path: ['content'], kind: 'content', required: true },
          { path: ['clientId'], kind: 'clientId', required: false },
        ],
        keys: { '': ['channelId', 'content', 'clientId'] },
        unknown: unknownId.map((id) => ({
          payload: { channelId: id, content: 'ghost' },
          code: 'not_found',
        })),
      },
      {
        // Who may type where is the authorization matrix's (authz-matrix.test.ts).
        name: 'chat:typing',
        valid: () => ({ channelId, isTyping: true }),
        fields: [
          { path: ['channelId'], kind: 'id', required: true },
          { path: ['isTyping'], kind: 'bool', required: true },
        ],
        keys: { '': ['channelId', 'isTyping'] },
      },
    ];
  }

  it(`[R1] [R2] [R3] [W4] ${CASES} generated payloads over every client event: structured errors only, nothing changes, nothing crashes`, async () => {
    console.log(`[fuzz-socket] FUZZ_SEED=${SEED}`);
    const before = await dbSnapshot(db);
    const seqBefore = (await client(R.url).get(`/api/projects/${projectId}`, owner.token)).body
      .project.seq as number;
    expect(typeof seqBefore).toBe('number');
    const targets = socketTargets();
    expect(targets.map((t) => t.name).sort()).toEqual(Object.keys(SCHEMAS).sort());

    const cases = casesFor(targets, CASES, SEED);
    const kinds = tally(cases);
    console.log(`[fuzz-socket] ${JSON.stringify(kinds)}`);
    expect(kinds.total).toBeGreaterThanOrEqual(CASES);
    for (const k of [
      'huge',
      'operator',
      'prototypeKey',
      'deep',
      'wrongTypeTop',
      'unknownId',
    ] as const)
      expect(kinds[k], k).toBeGreaterThanOrEqual(50);
    // Every frame stays under SOCKET_MAX_PAYLOAD: this is about what the handlers do.
    expect(kinds.maxJsonLength).toBeLessThan(95_000);

    // The oracle agrees: the shared schema refuses every payload sent for validation_failed.
    const laxSchema = cases
      .filter((c) => c.code === 'validation_failed')
      .filter((c) => {
        const wire: unknown = JSON.parse(JSON.stringify(c.payload) ?? 'null');
        return SCHEMAS[c.target]!.safeParse(wire).success;
      })
      .map((c) => `${c.target} ${c.damage} ${shown(c.payload)}`);
    expect(laxSchema.slice(0, 10)).toEqual([]);

    const failures: string[] = [];
    const seen = new Map<string, number>();
    for (let i = 0; i < cases.length; i += BATCH) {
      const batch = cases.slice(i, i + BATCH);
      const acks = await Promise.all(
        batch.map((c) =>
          call(fuzzer, c.target, c.payload, 20_000).catch((e: Error) => `no ack: ${e.message}`),
        ),
      );
      batch.forEach((c, j) => {
        const ack: unknown = acks[j];
        seen.set(`${c.target}/${c.damage}`, (seen.get(`${c.target}/${c.damage}`) ?? 0) + 1);
        if (!isStructuredAck(ack) || ack.error.code !== c.code) {
          failures.push(
            `#${i + j} ${c.target} ${c.damage} ${shown(c.payload)} → ${shown(ack)} (want ${c.code})`,
          );
        }
      });
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(fuzzer.connected).toBe(true);
    // Each event met each kind of damage that applies to it.
    for (const t of targets) {
      const object = typeof t.valid() === 'object';
      const want = ['replace'];
      if (object) want.push('wrongType', 'missing', 'extraKey');
      if (t.unknown) want.push('unknownId');
      expect(
        want.filter((d) => (seen.get(`${t.name}/${d}`) ?? 0) > 0),
        t.name,
      ).toEqual(want);
    }

    // Nothing changed, nothing crashed.
    expect(await dbSnapshot(db)).toEqual(before);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);

    // A valid change still works and carries nothing polluted; it is the sentinel: the observer
    // receives it, and nothing before it.
    const created = collect(observer, 'task:created');
    const ok = await call(fuzzer, 'task:create', { projectId, task: { title: 'after fuzz' } });
    expect(ok.ok).toBe(true);
    expect(ok.data.task.title).toBe('after fuzz');
    expect(ok.data.task.polluted).toBeUndefined();
    expect(ok.data.task.isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await waitUntil(() => created.length === 1, 5000, 'the sentinel task:created');
    expect(observed).toEqual(['task:created']);
    // [W4] No refused change took a seq: the sentinel's is the next one.
    expect(created[0].seq).toBe(seqBefore + 1);
  }, 180_000);

  it(`[C1] ${HANDSHAKES} generated handshake credentials are refused with unauthorized; the replica stays up`, async () => {
    console.log(`[fuzz-socket] handshakes: FUZZ_SEED=${SEED}`);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url');
    const b64bytes = fc
      .uint8Array({ maxLength: 64 })
      .map((b) => Buffer.from(b).toString('base64url'));
    // A JWT-shaped token: any header (alg none, other algorithms, key-location injections), any
    // claims (a real user id among them), a random or missing signature.
    const header = fc.oneof(
      fc.record({
        alg: fc.constantFrom('none', 'None', 'NONE', 'HS256', 'HS512', 'RS256', 'ES256', ''),
        typ: fc.constantFrom('JWT', 'jwt', undefined),
      }),
      fc.record({
        alg: fc.constant('HS256'),
        kid: fc.constantFrom('../../dev/null', "' OR 1=1 --", '0'),
        jku: fc.constant('http://127.0.0.1:1/jwks.json'),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const claims = fc.oneof(
      fc.record({
        sub: fc.oneof(fc.constant(owner.user.id), unknownId, fc.string(), fc.integer()),
        iss: fc.constantFrom('collabflow', 'evil', undefined),
        aud: fc.constantFrom('collabflow-api', 'someone-else', undefined),
        exp: fc.oneof(fc.integer({ min: 0, max: 4_000_000_000 }), fc.constant(undefined)),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const jwtLike = fc
      .tuple(header, claims, fc.oneof(b64bytes, fc.constant('')))
      .map(([h, c, sig]) => `${b64(h)}.${b64(c)}.${sig}`);
    const token = fc.oneof(
      jwtLike,
      jwtLike,
      // The real token of a user with its signature or payload bit-flipped.
      fc
        .nat(owner.token.length - 1)
        .map((i) => {
          const ch = owner.token[i] === 'A' ? 'B' : 'A';
          return owner.token.slice(0, i) + ch + owner.token.slice(i + 1);
        })
        .filter((t) => t !== owner.token),
      fc.string({ maxLength: 200 }),
      hugeString,
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), operatorObject, prototypeObject),
      fc.constant(undefined),
    );
    const auth = fc.oneof(
      token.map((t) => (t === undefined ? {} : { token: t })),
      operatorObject.map((op) => ({ token: op })),
      prototypeObject,
    );
    const cases = fc.sample(auth, { seed: SEED + 300, numRuns: HANDSHAKES });

    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += 20) {
      const batch = cases.slice(i, i + 20);
      const outcomes = await Promise.all(
        batch.map(
          (a) =>
            new Promise<string>((resolve) => {
              const s = connectWith(R.url, a as Record<string, unknown>);
              s.once('connect', () => {
                s.disconnect();
                resolve('connected');
              });
              s.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
                s.close();
                resolve(`connect_error ${String(err.data?.code)}`);
              });
            }),
        ),
      );
      outcomes.forEach((o, j) => {
        if (o !== 'connect_error unauthorized')
          failures.push(`#${i + j} ${shown(batch[j])} → ${o}`);
      });
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);
    // The real token still connects.
    const fresh = socketFor(R.url, owner.token);
    sockets.push(fresh);
    await connected(fresh);
    expect((await call(fresh, 'join:project', projectId)).ok).toBe(true);
  }, 120_000);

  it(`[R1] ${PACKETS} generated raw Socket.IO packets (any type, namespace, ack id and arguments) crash nothing and change nothing`, async () => {
    console.log(`[fuzz-socket] raw packets: FUZZ_SEED=${SEED}`);
    // A packet is "<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]" inside an engine.io
    // message. Arguments are the damaged payloads of the events (never a valid change), events
    // are the client's, unknown or reserved names, numbers; some packets are not packets at all.
    const damagedPayload = fc.oneof(
      ...socketTargets().map((t) => damaged(t).map((c) => c.payload)),
    );
    const eventName = fc.oneof(
      fc.constantFrom(...Object.keys(SCHEMAS)),
      fc.constantFrom(
        'connect',
        'disconnect',
        'disconnecting',
        'newListener',
        'error',
        '__proto__',
      ),
      fc.string({ maxLength: 20 }),
      fc.integer(),
    );
    const json = (v: unknown) => JSON.stringify(v) ?? 'null';
    // Ack ids far above the client's own, so an answer to a raw packet is never taken for the
    // answer to a probe.
    const rawAckId = fc.nat().map((n) => String(1_000_000_000 + n));
    const frame = fc.oneof(
      {
        // A well-formed EVENT (with or without an ack id) that the handlers get to see.
        weight: 6,
        arbitrary: fc
          .record({
            id: fc.oneof(fc.constant(''), rawAckId),
            args: fc.oneof(
              fc.tuple(eventName, damagedPayload).map((a) => json(a)),
              fc.tuple(eventName, damagedPayload, damagedPayload).map((a) => json(a)),
              fc.tuple(eventName).map((a) => json(a)),
            ),
          })
          .map(({ id, args }) => `2${id}${args}`),
      },
      {
        weight: 6,
        arbitrary: fc
          .record({
            type: fc.constantFrom('2', '3', '5', '6'),
            attachments: fc.oneof(
              fc.constant(''),
              fc.nat(3).map((n) => `${n}-`),
            ),
            nsp: fc.constantFrom('', '', '', '/admin,', '/,', '/x/y,'),
            id: fc.oneof(fc.constant(''), rawAckId, fc.constant('9'.repeat(30))),
            args: fc.oneof(
              fc.tuple(eventName, damagedPayload).map((a) => json(a)),
              fc.tuple(eventName).map((a) => json(a)),
              damagedPayload.map(json),
              fc.constant(json(['x', { _placeholder: true, num: 0 }])),
              fc.string({ maxLength: 40 }),
            ),
          })
          .map(({ type, attachments, nsp, id, args }) => `${type}${attachments}${nsp}${id}${args}`),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constantFrom(
            '0/admin,',
            '0/,{"token":1}',
            '4',
            '1',
            '7',
            '',
            '2',
            '3',
            '5-',
            '2[',
            '2["',
          ),
          fc.string({ unit: 'binary', maxLength: 60 }),
        ),
      },
    );
    const frames = fc.sample(frame, { seed: SEED + 500, numRuns: PACKETS });

    const before = await dbSnapshot(db);
    const seqBefore = (await client(R.url).get(`/api/projects/${projectId}`, owner.token)).body
      .project.seq as number;
    observed.length = 0;
    let raw: Socket | undefined;
    const outcomes = { answered: 0, closed: 0, silent: 0 };
    for (const f of frames) {
      if (!raw?.connected) {
        raw?.close();
        raw = socketFor(R.url, owner.token);
        sockets.push(raw);
        await connected(raw);
      }
      const s = raw;
      const closed = new Promise<'closed'>((resolve) =>
        s.once('disconnect', () => resolve('closed')),
      );
      // engine.io-client's write: the frame goes out as one engine.io message, as is.
      s.io.engine.write(f);
      // Then a probe on the same connection: answered (the frame was handled or ignored), the
      // connection closed (the parser refused it), or silence (the frame left the namespace).
      const probe = call(s, 'leave:project', projectId, 1000).then(
        (ack: { ok?: unknown }) => (ack.ok === true ? 'answered' : 'other'),
        () => 'silent',
      );
      const outcome = await Promise.race([probe, closed]);
      if (outcome === 'other')
        throw new Error(`probe answered with an error after ${f.slice(0, 100)}`);
      outcomes[outcome as keyof typeof outcomes]++;
      if (outcome === 'silent') s.close();
      if (R.exitCode() !== null) throw new Error(`the replica died after ${f.slice(0, 100)}`);
    }
    console.log(`[fuzz-socket] ${JSON.stringify(outcomes)}`);
    expect(outcomes.answered + outcomes.closed + outcomes.silent).toBe(PACKETS);
    expect(outcomes.answered).toBeGreaterThan(0);
    expect(outcomes.closed).toBeGreaterThan(0);
    // Generated event names do not become metric labels (bounded cardinality).
    const metrics = await (await fetch(`${R.url}/metrics`)).text();
    const labelled = new Set(
      [...metrics.matchAll(/^collabflow_socket_events_total\{[^}]*event="([^"]*)"/gm)].map(
        (m) => m[1],
      ),
    );
    expect(labelled.size).toBeGreaterThan(3);
    const known = new Set([...Object.keys(SCHEMAS), 'unknown', 'redis-publish']);
    expect([...labelled].filter((e) => !known.has(e!))).toEqual([]);

    expect(await dbSnapshot(db)).toEqual(before);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);
    const created = collect(observer, 'task:created');
    const ok = await call(fuzzer, 'task:create', { projectId, task: { title: 'after packets' } });
    expect(ok.ok).toBe(true);
    await waitUntil(() => created.length === 1, 5000, 'the sentinel task:created');
    expect(observed).toEqual(['task:created']);
    expect(created[0].seq).toBe(seqBefore + 1);
  }, 180_000);
});

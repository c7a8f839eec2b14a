/**
 * Property-based bad input over REST (issue 8), with fast-check: 5,200 damaged request bodies
 * spread over every route that takes one. Each gets a structured 4xx `{ error: { code, message } }`:
 * 400 `validation_failed` for a body the strict schemas refuse, 400 `invalid_json` for a body
 * that is not a JSON object or array, 413 `payload_too_large` past BODY_LIMIT, 404 `not_found`
 * for a well-formed body naming something that does not exist. Nothing changes (every document
 * of the database is the same before and after), nothing is broadcast (an observer socket in
 * the project receives only the sentinel event sent after the fuzz), nothing crashes (the
 * replica process is alive, answers /healthz and a valid request after).
 *
 * The seed is FUZZ_SEED (default helpers/fuzz.ts DEFAULT_FUZZ_SEED) and is printed; a failure
 * replays with `FUZZ_SEED=<seed> npx vitest run backend/test/fuzz-rest.test.ts`.
 */
import fc from 'fast-check';
import type mongoose from 'mongoose';
import type { z } from 'zod';
import {
  addMemberBody,
  createChannelBody,
  createProjectBody,
  createTaskBody,
  createWorkspaceBody,
  editMessageBody,
  loginBody,
  moveTaskBody,
  postMessageBody,
  registerBody,
  updateMemberBody,
  updateProjectBody,
  updateTaskBody,
} from '@collabflow/shared';
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
import {
  damaged,
  dbSnapshot,
  fuzzSeed,
  longString,
  openDb,
  shown,
  tally,
  unknownId,
  type Case,
  type Target,
} from './helpers/fuzz.js';

const SEED = fuzzSeed();
const PER_ROUTE = 400;
/** Requests in flight at once (over keep-alive connections). */
const BATCH = 25;

interface RestTarget extends Target {
  method: 'POST' | 'PATCH';
  /** The path, given an id that replaces its main id for `unknown` cases. */
  path: (unknown?: string) => string;
  schema: z.ZodType;
  anonymous?: boolean;
}

/** One request as sent. */
interface Sent {
  route: string;
  damage: string;
  method: string;
  path: string;
  body: string;
  contentType: string;
  anonymous: boolean;
  status: number;
  code: string;
  /** The parsed body, for the schema oracle (JSON damage only). */
  payload?: unknown;
}

const STATUS: Record<string, number> = {
  validation_failed: 400,
  invalid_json: 400,
  payload_too_large: 413,
  not_found: 404,
};

describe('property-based REST bodies', () => {
  let R: Replica;
  let db: mongoose.Connection;
  const sockets: Socket[] = [];
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let mate: Awaited<ReturnType<typeof registerUser>>;
  let projectId: string;
  let channelId: string;
  let taskId: string;
  let messageId: string;
  let observer: Socket;
  const observed: string[] = [];

  beforeAll(async () => {
    const uri = freshMongoUri('fuzz_rest');
    R = await startReplica('fuzz-rest', {
      MONGODB_URI: uri,
      REDIS_URL: inject('redisUrl'),
      RATE_LIMIT_API_POINTS: '1000000',
    });
    db = await openDb(uri);
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
    taskId = (await api.post(`/api/projects/${projectId}/tasks`, { title: 'alpha' }, owner.token))
      .body.task.id;
    messageId = (
      await api.post(`/api/channels/${channelId}/messages`, { content: 'hello' }, owner.token)
    ).body.message.id;

    observer = socketFor(R.url, mate.token);
    sockets.push(observer);
    await connected(observer);
    expect((await call(observer, 'join:project', projectId)).ok).toBe(true);
    expect((await call(observer, 'chat:join', channelId)).ok).toBe(true);
    observer.onAny((event: string) => observed.push(event));
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await db?.close();
    await R?.stop();
  });

  function targets(): RestTarget[] {
    const taskKeys = [
      'title',
      'description',
      'status',
      'priority',
      'assignee',
      'dueDate',
      'labels',
      'subtasks',
    ];
    const taskFields = (required: boolean) =>
      [
        { path: ['title'], kind: 'title', required },
        { path: ['description'], kind: 'description', required: false },
        { path: ['priority'], kind: 'priority', required: false },
        { path: ['assignee'], kind: 'nullableId', required: false },
        { path: ['dueDate'], kind: 'date', required: false },
        { path: ['labels'], kind: 'labels', required: false },
        { path: ['subtasks'], kind: 'subtasks', required: false },
      ] as const;
    return [
      {
        name: 'POST /api/auth/register',
        method: 'POST',
        path: () => '/api/auth/register',
        schema: registerBody,
        anonymous: true,
        valid: () => ({ email: 'fuzz@example.test', password: 'long enough pw', name: 'Fuzz' }),
        fields: [
          { path: ['email'], kind: 'email', required: true },
          { path: ['password'], kind: 'password', required: true },
          { path: ['name'], kind: 'name', required: true },
        ],
        keys: { '': ['email', 'password', 'name'] },
      },
      {
        name: 'POST /api/auth/login',
        method: 'POST',
        path: () => '/api/auth/login',
        schema: loginBody,
        anonymous: true,
        valid: () => ({ email: owner.user.email, password: owner.password }),
        fields: [
          { path: ['email'], kind: 'email', required: true },
          { path: ['password'], kind: 'loginPassword', required: true },
        ],
        keys: { '': ['email', 'password'] },
      },
      {
        name: 'POST /api/workspaces',
        method: 'POST',
        path: () => '/api/workspaces',
        schema: createWorkspaceBody,
        valid: () => ({ name: 'W' }),
        fields: [{ path: ['name'], kind: 'name', required: true }],
        keys: { '': ['name'] },
      },
      {
        name: 'POST /api/projects',
        method: 'POST',
        path: () => '/api/projects',
        schema: createProjectBody,
        valid: () => ({ name: 'P', description: 'd' }),
        fields: [
          { path: ['name'], kind: 'name', required: true },
          { path: ['workspaceId'], kind: 'id', required: false },
          { path: ['description'], kind: 'description', required: false },
        ],
        keys: { '': ['name', 'workspaceId', 'description'] },
        unknown: unknownId.map((id) => ({
          payload: { name: 'ghost', workspaceId: id },
          code: 'not_found',
        })),
      },
      {
        name: 'PATCH /api/projects/:projectId',
        method: 'PATCH',
        path: (id = projectId) => `/api/projects/${id}`,
        schema: updateProjectBody,
        valid: () => ({ name: 'Renamed', description: 'd' }),
        fields: [
          { path: ['name'], kind: 'name', required: false },
          { path: ['description'], kind: 'description', required: false },
        ],
        keys: { '': ['name', 'description'] },
      },
      {
        name: 'POST /api/projects/:projectId/members',
        method: 'POST',
        path: (id = projectId) => `/api/projects/${id}/members`,
        schema: addMemberBody,
        valid: () => ({ email: 'someone@example.test', role: 'viewer' }),
        fields: [
          { path: ['email'], kind: 'email', required: true },
          { path: ['role'], kind: 'role', required: false },
        ],
        keys: { '': ['email', 'role'] },
        // An e-mail nobody registered.
        unknown: unknownId.map((id) => ({
          payload: { email: `nobody-${id}@example.test`, role: 'member' },
          code: 'not_found',
        })),
      },
      {
        name: 'PATCH /api/projects/:projectId/members/:userId',
        method: 'PATCH',
        path: (id = mate.user.id) => `/api/projects/${projectId}/members/${id}`,
        schema: updateMemberBody,
        valid: () => ({ role: 'viewer' }),
        fields: [{ path: ['role'], kind: 'role', required: true }],
        keys: { '': ['role'] },
      },
      {
        name: 'POST /api/projects/:projectId/tasks',
        method: 'POST',
        path: (id = projectId) => `/api/projects/${id}/tasks`,
        schema: createTaskBody,
        valid: () => ({
          title: 'fuzz',
          description: 'd',
          status: 'todo',
          priority: 'low',
          assignee: null,
          dueDate: '2030-01-01',
          labels: ['x'],
          subtasks: [{ title: 's', done: false }],
        }),
        fields: [...taskFields(true), { path: ['status'], kind: 'status', required: false }],
        keys: { '': taskKeys },
      },
      {
        name: 'PATCH /api/tasks/:taskId',
        method: 'PATCH',
        path: (id = taskId) => `/api/tasks/${id}`,
        schema: updateTaskBody,
        valid: () => ({ version: 0, title: 'renamed', priority: 'high', labels: ['y'] }),
        fields: [
          ...taskFields(false),
          { path: ['version'], kind: 'nonNegativeInt', required: false },
        ],
        keys: { '': [...taskKeys.filter((k) => k !== 'status'), 'version'] },
      },
      {
        name: 'POST /api/tasks/:taskId/move',
        method: 'POST',
        path: (id = taskId) => `/api/tasks/${id}/move`,
        schema: moveTaskBody,
        valid: () => ({ status: 'done', beforeId: null, index: 0, version: 0 }),
        fields: [
          { path: ['status'], kind: 'status', required: true },
          { path: ['beforeId'], kind: 'nullableId', required: false },
          { path: ['afterId'], kind: 'nullableId', required: false },
          { path: ['index'], kind: 'nonNegativeInt', required: false },
          { path: ['version'], kind: 'nonNegativeInt', required: false },
        ],
        keys: { '': ['status', 'beforeId', 'afterId', 'index', 'version'] },
      },
      {
        name: 'POST /api/projects/:projectId/channels',
        method: 'POST',
        path: (id = projectId) => `/api/projects/${id}/channels`,
        schema: createChannelBody,
        valid: () => ({ name: 'random' }),
        fields: [{ path: ['name'], kind: 'channelName', required: true }],
        keys: { '': ['name'] },
      },
      {
        name: 'POST /api/channels/:channelId/messages',
        method: 'POST',
        path: (id = channelId) => `/api/channels/${id}/messages`,
        schema: postMessageBody,
        valid: () => ({ content: 'hi' }),
        fields: [{ path: ['content'], kind: 'content', required: true }],
        keys: { '': ['content'] },
      },
      {
        name: 'PATCH /api/messages/:messageId',
        method: 'PATCH',
        path: (id = messageId) => `/api/messages/${id}`,
        schema: editMessageBody,
        valid: () => ({ content: 'edited' }),
        fields: [{ path: ['content'], kind: 'content', required: true }],
        keys: { '': ['content'] },
      },
    ];
  }

  /** A path-id route also meets a valid body sent to an id that names nothing. */
  const pathIdRoutes = (t: RestTarget) =>
    t
      .path()
      .split('/')
      .some((s) => /^[a-f0-9]{24}$/.test(s));

  function requests(t: RestTarget, count: number, seed: number): Sent[] {
    const asJson = (c: Case, path: string): Sent => {
      const top = c.payload;
      // A JSON text that is not an object or an array is refused by the strict JSON parser.
      const code = typeof top !== 'object' || top === null ? 'invalid_json' : (c.code as string);
      return {
        route: t.name,
        damage: c.damage,
        method: t.method,
        path,
        body: JSON.stringify(top),
        contentType: 'application/json',
        anonymous: !!t.anonymous,
        status: STATUS[code]!,
        code,
        payload: top,
      };
    };
    const raw = (damage: string, body: string, contentType: string, code: string): Sent => ({
      route: t.name,
      damage,
      method: t.method,
      path: t.path(),
      body,
      contentType,
      anonymous: !!t.anonymous,
      status: STATUS[code]!,
      code,
    });
    const json = damaged(t).map((c) => asJson(c, t.path()));
    const arbs: fc.WeightedArbitrary<Sent>[] = [
      { arbitrary: json, weight: 16 },
      // Not JSON at all, or JSON cut short.
      {
        weight: 2,
        arbitrary: fc
          .oneof(
            fc.string({ maxLength: 40 }).map((s) => `{${s}`),
            fc.constant(JSON.stringify(t.valid()).slice(0, -1)),
            fc.constantFrom('{"a":1,}', "{'a':1}", '{"a":undefined}', 'NaN', '[1,]', '\u0000'),
          )
          .map((body) => raw('notJson', body, 'application/json', 'invalid_json')),
      },
      // A valid body under another content type is not read at all.
      {
        weight: 2,
        arbitrary: fc
          .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml')
          .map((ct) => raw('contentType', JSON.stringify(t.valid()), ct, 'validation_failed')),
      },
      // Past BODY_LIMIT (100kb).
      {
        weight: 1,
        arbitrary: longString(103_000, 120_000).map((s) =>
          raw('oversize', JSON.stringify({ name: s }), 'application/json', 'payload_too_large'),
        ),
      },
    ];
    if (pathIdRoutes(t)) {
      arbs.push({
        weight: 2,
        arbitrary: unknownId.map((id) =>
          asJson(
            { target: t.name, damage: 'unknownId', payload: t.valid(), code: 'not_found' },
            t.path(id),
          ),
        ),
      });
    }
    return fc.sample(fc.oneof(...arbs), { seed, numRuns: count });
  }

  async function send(r: Sent): Promise<{ status: number; body: unknown } | string> {
    const headers: Record<string, string> = { 'content-type': r.contentType };
    if (!r.anonymous) headers.authorization = `Bearer ${owner.token}`;
    try {
      const res = await fetch(`${R.url}${r.path}`, { method: r.method, headers, body: r.body });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep the text */
      }
      return { status: res.status, body };
    } catch (err) {
      return `request failed: ${(err as Error).message}`;
    }
  }

  function structured(body: unknown, code: string): boolean {
    if (typeof body !== 'object' || body === null) return false;
    const keys = Object.keys(body);
    const e = (body as { error?: { code?: unknown; message?: unknown } }).error;
    return (
      keys.length === 1 &&
      typeof e === 'object' &&
      e !== null &&
      e.code === code &&
      typeof e.message === 'string' &&
      e.message.length > 0
    );
  }

  it(`[W4] ${PER_ROUTE} generated bodies for each of the 13 routes that take one: structured 4xx only, nothing changes, nothing crashes`, async () => {
    console.log(`[fuzz-rest] FUZZ_SEED=${SEED}`);
    const all = targets();
    // Every route that reads a body (POST and PATCH in the OpenAPI document, but refresh and
    // logout, which read the cookie) is here.
    const doc = (await (await fetch(`${R.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const withBody = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody !== undefined)
        .map(([m]) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(all.map((t) => t.name).sort()).toEqual(withBody.sort());

    const reqs = all.flatMap((t, i) => requests(t, PER_ROUTE, SEED + i));
    const jsonCases: Case[] = reqs
      .filter((r) => r.payload !== undefined)
      .map((r) => ({ target: r.route, damage: 'replace', payload: r.payload, code: r.code }));
    const kinds = {
      ...tally(jsonCases),
      total: reqs.length,
      notJson: reqs.filter((r) => r.damage === 'notJson').length,
      contentType: reqs.filter((r) => r.damage === 'contentType').length,
      oversize: reqs.filter((r) => r.damage === 'oversize').length,
      unknownId: reqs.filter((r) => r.damage === 'unknownId').length,
    };
    console.log(`[fuzz-rest] ${JSON.stringify(kinds)}`);
    expect(kinds.total).toBe(PER_ROUTE * all.length);
    for (const k of [
      'huge',
      'operator',
      'prototypeKey',
      'deep',
      'wrongTypeTop',
      'notJson',
      'contentType',
      'oversize',
      'unknownId',
    ] as const)
      expect(kinds[k], k).toBeGreaterThanOrEqual(50);

    // The oracle agrees: the shared schema refuses every JSON body sent for validation_failed.
    const byName = new Map(all.map((t) => [t.name, t]));
    const lax = reqs
      .filter((r) => r.code === 'validation_failed' && r.payload !== undefined)
      .filter((r) => byName.get(r.route)!.schema.safeParse(JSON.parse(r.body)).success)
      .map((r) => `${r.route} ${r.damage} ${r.body.slice(0, 200)}`);
    expect(lax.slice(0, 10)).toEqual([]);

    const before = await dbSnapshot(db);
    const seqBefore = (await client(R.url).get(`/api/projects/${projectId}`, owner.token)).body
      .project.seq as number;
    expect(typeof seqBefore).toBe('number');
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    for (let i = 0; i < reqs.length; i += BATCH) {
      const batch = reqs.slice(i, i + BATCH);
      const answers = await Promise.all(batch.map(send));
      batch.forEach((r, j) => {
        const a = answers[j]!;
        const key = `${r.route}/${r.damage}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (typeof a === 'string' || a.status !== r.status || !structured(a.body, r.code)) {
          failures.push(
            `#${i + j} ${r.method} ${r.path} ${r.damage} ${r.body.slice(0, 160)} → ${
              typeof a === 'string' ? a : `${a.status} ${shown(a.body)}`
            } (want ${r.status} ${r.code})`,
          );
        }
      });
    }
    expect(failures.slice(0, 20)).toEqual([]);
    for (const t of all) {
      const want = ['replace', 'wrongType', 'extraKey', 'notJson', 'contentType', 'oversize'];
      if (t.fields.some((f) => f.required)) want.push('missing');
      if (t.unknown || pathIdRoutes(t)) want.push('unknownId');
      expect(
        want.filter((d) => (outcomes.get(`${t.name}/${d}`) ?? 0) > 0),
        t.name,
      ).toEqual(want);
    }

    // Nothing changed, nothing crashed.
    expect(await dbSnapshot(db)).toEqual(before);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);

    // A valid request still works and carries nothing polluted; its event is the sentinel: the
    // observer receives it, and nothing before it.
    const created = collect(observer, 'task:created');
    const api = client(R.url);
    const ok = await api.post(`/api/projects/${projectId}/tasks`, { title: 'after' }, owner.token);
    expect(ok.status).toBe(201);
    expect(ok.body.task.title).toBe('after');
    expect(ok.body.task.polluted).toBeUndefined();
    expect(ok.body.task.isAdmin).toBeUndefined();
    await waitUntil(() => created.length === 1, 5000, 'the sentinel task:created');
    expect(observed).toEqual(['task:created']);
    // [W4] No refused change took a seq: the sentinel's is the next one.
    expect(created[0].seq).toBe(seqBefore + 1);
  }, 180_000);
});

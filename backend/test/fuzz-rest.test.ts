/**
 * Property-based bad input over REST (issue 8), with fast-check: 6,000 damaged request bodies
 * spread over every route that takes one. Each gets a structured 4xx `{ error: { code, message } }`:
 * 400 `validation_failed` for a body the strict schemas refuse, 400 `invalid_json` for a body
 * that is not a JSON object or array, 400 `bad_request` for a body its Content-Encoding cannot
 * decompress, 413 `payload_too_large` past BODY_LIMIT, 404 `not_found`
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
  changePasswordBody,
  createChannelBody,
  createProjectBody,
  createTaskBody,
  createWorkspaceBody,
  deleteAccountBody,
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
import { client, freshMongoUri } from './helpers/api.js';
import { sseOpen } from './helpers/probe.js';
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
const ID_CASES = 1500;
const QUERY_CASES = 500;
const LAST_EVENT_IDS = 200;
const STATUSES: readonly string[] = ['todo', 'in-progress', 'review', 'done'];
/** Requests in flight at once (over keep-alive connections). */
const BATCH = 25;

interface RestTarget extends Target {
  method: 'POST' | 'PATCH' | 'DELETE';
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
  /** Extra request headers (Content-Encoding). */
  headers?: Record<string, string>;
  anonymous: boolean;
  status: number;
  code: string;
  /** The parsed body, for the schema oracle (JSON damage only). */
  payload?: unknown;
}

const STATUS: Record<string, number> = {
  validation_failed: 400,
  bad_request: 400,
  invalid_json: 400,
  payload_too_large: 413,
  not_found: 404,
};

describe('property-based REST bodies', () => {
  let R: Replica;
  let db: mongoose.Connection;
  const sockets: Socket[] = [];
  let owner: FuzzProject['owner'];
  let mate: FuzzProject['owner'];
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
      // Every test file connects from 127.0.0.1: the per-address handshake budget is not under test.
      RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
    });
    db = await openDb(uri);
    const api = client(R.url);
    ({ owner, mate, projectId, channelId } = await fuzzProject(R.url));
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
      // [C8] The account's own changes: only damaged bodies are sent (a valid one would end the
      // owner's sessions), so each is refused before the password is checked.
      {
        name: 'POST /api/auth/password',
        method: 'POST',
        path: () => '/api/auth/password',
        schema: changePasswordBody,
        valid: () => ({ currentPassword: owner.password, newPassword: 'another long password' }),
        fields: [
          { path: ['currentPassword'], kind: 'loginPassword', required: true },
          { path: ['newPassword'], kind: 'password', required: true },
        ],
        keys: { '': ['currentPassword', 'newPassword'] },
      },
      {
        name: 'DELETE /api/auth/me',
        method: 'DELETE',
        path: () => '/api/auth/me',
        schema: deleteAccountBody,
        valid: () => ({ password: owner.password }),
        fields: [{ path: ['password'], kind: 'loginPassword', required: true }],
        keys: { '': ['password'] },
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
    const raw = (
      damage: string,
      body: string,
      contentType: string,
      code: string,
      headers?: Record<string, string>,
    ): Sent => ({
      route: t.name,
      damage,
      method: t.method,
      path: t.path(),
      body,
      contentType,
      headers,
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
      // A Content-Encoding the body is not in: it cannot be decompressed. (A body starting with
      // "{" is neither a gzip nor a zlib stream: their first byte says so.)
      {
        weight: 1,
        arbitrary: fc
          .oneof(
            fc.record({
              encoding: fc.constantFrom('gzip', 'deflate'),
              body: fc.string({ maxLength: 60 }).map((x) => `{${x}`),
            }),
            fc.constant({ encoding: 'br', body: 'zzzz' }),
          )
          .map(({ encoding, body }) =>
            raw('contentEncoding', body, 'application/json', 'bad_request', {
              'content-encoding': encoding,
            }),
          ),
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
    const headers: Record<string, string> = { 'content-type': r.contentType, ...r.headers };
    if (!r.anonymous) headers.authorization = `Bearer ${owner.token}`;
    try {
      const res = await fetch(`${R.url}${r.path}`, {
        method: r.method,
        headers,
        body: r.body === '' ? undefined : r.body,
      });
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

  it(`[W4] ${PER_ROUTE} generated bodies for each of the 15 routes that take one: structured 4xx only, nothing changes, nothing crashes`, async () => {
    console.log(`[fuzz-rest] FUZZ_SEED=${SEED}`);
    const all = targets();
    // Every route that reads a body (those with a request body in the OpenAPI document: not
    // refresh and logout, which read the cookie) is here.
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
      contentEncoding: reqs.filter((r) => r.damage === 'contentEncoding').length,
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
      'contentEncoding',
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
      const want = [
        'replace',
        'wrongType',
        'extraKey',
        'notJson',
        'contentType',
        'contentEncoding',
        'oversize',
      ];
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

  it(`${ID_CASES} generated path ids, ${QUERY_CASES} queries and ${LAST_EVENT_IDS} SSE resume points: 404 for an id naming nothing, 400 for a path that cannot be decoded or a bad query, nothing changes`, async () => {
    console.log(`[fuzz-rest] path ids and queries: FUZZ_SEED=${SEED}`);
    const HEX24 = /^[a-f0-9]{24}$/i;
    // Every route with an id in its path, asked with a body that would be valid there.
    const routes: { method: string; path: (id: string) => string; body?: unknown }[] = [
      { method: 'GET', path: (id) => `/api/projects/${id}` },
      { method: 'PATCH', path: (id) => `/api/projects/${id}`, body: { description: 'x' } },
      { method: 'DELETE', path: (id) => `/api/projects/${id}` },
      { method: 'GET', path: (id) => `/api/projects/${id}/members` },
      {
        method: 'POST',
        path: (id) => `/api/projects/${id}/members`,
        body: { email: 'nobody@example.test', role: 'viewer' },
      },
      {
        method: 'PATCH',
        path: (id) => `/api/projects/${projectId}/members/${id}`,
        body: { role: 'viewer' },
      },
      { method: 'DELETE', path: (id) => `/api/projects/${projectId}/members/${id}` },
      { method: 'GET', path: (id) => `/api/projects/${id}/tasks` },
      { method: 'POST', path: (id) => `/api/projects/${id}/tasks`, body: { title: 'ghost' } },
      { method: 'GET', path: (id) => `/api/tasks/${id}` },
      { method: 'PATCH', path: (id) => `/api/tasks/${id}`, body: { title: 'ghost' } },
      { method: 'POST', path: (id) => `/api/tasks/${id}/move`, body: { status: 'done' } },
      { method: 'DELETE', path: (id) => `/api/tasks/${id}` },
      { method: 'GET', path: (id) => `/api/projects/${id}/channels` },
      { method: 'POST', path: (id) => `/api/projects/${id}/channels`, body: { name: 'ghost' } },
      { method: 'GET', path: (id) => `/api/channels/${id}/messages` },
      { method: 'POST', path: (id) => `/api/channels/${id}/messages`, body: { content: 'x' } },
      { method: 'PATCH', path: (id) => `/api/messages/${id}`, body: { content: 'x' } },
      { method: 'DELETE', path: (id) => `/api/messages/${id}` },
      { method: 'GET', path: (id) => `/api/projects/${id}/events` },
    ];
    const encodable = (s: string) => {
      try {
        return encodeURIComponent(s);
      } catch {
        return null; // a lone surrogate
      }
    };
    // A segment that decodes to something that is not an id (URL dot segments aside: the
    // client resolves those before sending), or a well-formed id that names nothing.
    const decodable = fc.oneof(
      fc
        .string({ unit: 'binary', minLength: 1, maxLength: 40 })
        .filter((s) => !HEX24.test(s) && !/^\.{1,2}$/.test(s) && encodable(s) !== null)
        .map((s) => encodeURIComponent(s)),
      fc.constantFrom('%24gt', '%7B%22%24gt%22%3A%22%22%7D', 'ObjectId(1)', '..%2F..%2Fetc'),
      unknownId,
      unknownId.map((id) => id.toUpperCase()),
    );
    // Not valid percent-encoding: Express cannot decode the parameter.
    const undecodable = fc.oneof(
      fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%ff', '%u0041', '%%', '%ED%A0%80'),
      fc
        .tuple(fc.string({ unit: fc.constantFrom(...'abcdef0123'), maxLength: 10 }), fc.nat(255))
        .map(([pre, b]) => `${pre}%${b.toString(16).padStart(2, '0')}%g`),
    );
    const idCases = fc.sample(
      fc.record({
        route: fc.constantFrom(...routes),
        id: fc.oneof(
          { arbitrary: decodable.map((id) => ({ id, status: 404, code: 'not_found' })), weight: 3 },
          {
            arbitrary: undecodable.map((id) => ({ id, status: 400, code: 'validation_failed' })),
            weight: 1,
          },
        ),
      }),
      { seed: SEED + 100, numRuns: ID_CASES },
    );
    // Queries: the task list's and the message history's, each value or key certainly invalid.
    const q = (pairs: [string, string][]) =>
      pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const badStatus = fc.string({ maxLength: 12 }).filter((s) => !STATUSES.includes(s));
    const extraKey = fc.oneof(
      fc.constantFrom('status[$gt]', '__proto__', 'constructor', '$where', 'projectId', 'limit'),
      fc.string({ minLength: 1, maxLength: 12 }),
    );
    const taskQuery = fc.oneof(
      badStatus.map((v) => q([['status', v]])),
      fc
        .string({ maxLength: 30 })
        .filter((s) => !HEX24.test(s))
        .map((v) => q([['assignee', v]])),
      fc.constant(
        q([
          ['status', 'todo'],
          ['status', 'done'],
        ]),
      ),
      fc
        .tuple(
          extraKey.filter((k) => k !== 'status' && k !== 'assignee'),
          fc.string(),
        )
        .map(([k, v]) => q([[k, v]])),
      fc.constantFrom('status=%zz', 'status=%E0%A4%A', 'assignee=%ff'),
    );
    const messageQuery = fc.oneof(
      fc
        .string({ maxLength: 120 })
        .filter((s) => !/^\d{1,15}$/.test(s))
        .map((v) => q([['before', v]])),
      fc
        .oneof(
          fc.string({ unit: fc.constantFrom(...'abcdxyz'), minLength: 1, maxLength: 8 }),
          fc.integer({ max: 0 }).map(String),
          fc.integer({ min: 101 }).map(String),
          fc.constantFrom('1.5', '2.25', '1e3', '-0.5', ''),
        )
        .map((v) => q([['limit', v]])),
      fc.constant(
        q([
          ['limit', '5'],
          ['limit', '6'],
        ]),
      ),
      fc
        .tuple(
          extraKey.filter((k) => k !== 'before' && k !== 'limit'),
          fc.string(),
        )
        .map(([k, v]) => q([[k, v]])),
    );
    const queryCases = fc.sample(
      fc.oneof(
        taskQuery.map((qs) => `/api/projects/${projectId}/tasks?${qs}`),
        messageQuery.map((qs) => `/api/channels/${channelId}/messages?${qs}`),
      ),
      { seed: SEED + 200, numRuns: QUERY_CASES },
    );
    const reqs: Sent[] = [
      ...idCases.map(({ route, id }) => ({
        route: `${route.method} ${route.path(':id')}`,
        damage: id.code === 'not_found' ? 'id' : 'undecodable',
        method: route.method,
        path: route.path(id.id),
        body: route.body === undefined ? '' : JSON.stringify(route.body),
        contentType: 'application/json',
        anonymous: false,
        status: id.status,
        code: id.code,
      })),
      ...queryCases.map((path) => ({
        route: path.split('?')[0]!,
        damage: 'query',
        method: 'GET',
        path,
        body: '',
        contentType: 'application/json',
        anonymous: false,
        status: 400,
        code: 'validation_failed',
      })),
    ];
    const counts = {
      id: reqs.filter((r) => r.damage === 'id').length,
      undecodable: reqs.filter((r) => r.damage === 'undecodable').length,
      query: reqs.filter((r) => r.damage === 'query').length,
    };
    console.log(`[fuzz-rest] ${JSON.stringify(counts)}`);
    for (const [k, n] of Object.entries(counts)) expect(n, k).toBeGreaterThanOrEqual(100);

    observed.length = 0;
    const before = await dbSnapshot(db);
    const seqBefore = (await client(R.url).get(`/api/projects/${projectId}`, owner.token)).body
      .project.seq as number;
    const failures: string[] = [];
    for (let i = 0; i < reqs.length; i += BATCH) {
      const batch = reqs.slice(i, i + BATCH);
      const answers = await Promise.all(batch.map(send));
      batch.forEach((r, j) => {
        const a = answers[j]!;
        if (typeof a === 'string' || a.status !== r.status || !structured(a.body, r.code)) {
          failures.push(
            `#${i + j} ${r.method} ${r.path.slice(0, 160)} → ${
              typeof a === 'string' ? a : `${a.status} ${shown(a.body)}`
            } (want ${r.status} ${r.code})`,
          );
        }
      });
    }
    expect(failures.slice(0, 20)).toEqual([]);
    // Generated paths do not become metric labels: a route is its pattern, or "unmatched".
    const metrics = await (await fetch(`${R.url}/metrics`)).text();
    const labelled = [
      ...new Set(
        [...metrics.matchAll(/^collabflow_http_requests_total\{[^}]*route="([^"]*)"/gm)].map(
          (m) => m[1]!,
        ),
      ),
    ];
    expect(labelled.length).toBeGreaterThan(5);
    expect(labelled.filter((r) => r !== 'unmatched' && !/^\/[\w/:.-]*$/.test(r))).toEqual([]);
    expect(labelled.filter((r) => /[a-f0-9]{24}/i.test(r))).toEqual([]);
    for (const route of routes) {
      const name = `${route.method} ${route.path(':id')}`;
      expect(
        reqs.some((r) => r.route === name && r.damage === 'undecodable'),
        name,
      ).toBe(true);
    }

    // The SSE stream's resume point, as a header or a query: anything but a seq is refused.
    const lastEventIds = fc.sample(
      fc.record({
        value: fc.oneof(
          fc.string({ maxLength: 30 }).filter((v) => !/^\d{1,15}$/.test(v)),
          fc.constantFrom('-1', '1.5', '1e3', '0x10', ' 1', '9999999999999999', '１２'),
        ),
        asHeader: fc.boolean(),
      }),
      { seed: SEED + 400, numRuns: LAST_EVENT_IDS },
    );
    for (const { value, asHeader } of lastEventIds) {
      // A header value cannot carry control characters or non-ASCII text, and HTTP drops its
      // surrounding spaces: such values go as a query.
      const header = asHeader && /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value);
      const sse = await sseOpen(R.url, projectId, owner.token, {
        headers: header ? { 'last-event-id': value } : {},
        query: header ? undefined : `lastEventId=${encodeURIComponent(value)}`,
      });
      if (sse.status !== 400 || !structured(sse.body, 'validation_failed'))
        failures.push(`Last-Event-ID ${JSON.stringify(value)} → ${sse.status} ${shown(sse.body)}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);

    expect(await dbSnapshot(db)).toEqual(before);
    expect(R.exitCode()).toBeNull();
    expect((await fetch(`${R.url}/healthz`)).status).toBe(200);
    const created = collect(observer, 'task:created');
    const ok = await client(R.url).post(
      `/api/projects/${projectId}/tasks`,
      { title: 'after ids' },
      owner.token,
    );
    expect(ok.status).toBe(201);
    await waitUntil(() => created.length === 1, 5000, 'the sentinel task:created');
    expect(observed).toEqual(['task:created']);
    expect(created[0].seq).toBe(seqBefore + 1);
  }, 180_000);
});

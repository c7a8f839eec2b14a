/**
 * The authorization matrix (issue 8): every REST route and every client → server socket event,
 * tried as each of seven callers, against the outcome the product rules give (../shared/API.md,
 * docs/protocol.md [R3], issue 8 item 5). The expected outcomes live in ONE table, MATRIX; one
 * test is generated per cell. The callers:
 *
 * - owner, admin, member, viewer: members of the project with that role;
 * - nonMember: a signed-in user who was never in the project (404: they cannot learn it exists);
 * - anonymous: no token (REST 401; the socket handshake fails with `unauthorized`, rule [C1]);
 * - removed: a member removed over REST. On REST their token is still valid but they are no
 *   longer a member (404). Their socket had joined the project and its channel before the
 *   removal and stays connected ([C5]); what it sends afterwards is refused like a non-member's.
 *
 * One set-up for the whole file (an in-process server with the shared Redis, one project, its
 * memberships and the sockets); a cell that consumes what it acts on (a delete) gets a fresh
 * target made by the owner just before it runs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import mongoose from 'mongoose';
import { buildOpenApi } from '../src/ops/openapi.js';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';
import { call, connected, socketFor, waitUntil } from './helpers/cluster.js';
import { dbSnapshot } from './helpers/fuzz.js';
import { handshake, sseOpen } from './helpers/probe.js';

const ROLES = ['owner', 'admin', 'member', 'viewer', 'nonMember', 'anonymous', 'removed'] as const;
type Role = (typeof ROLES)[number];
type Person = Exclude<Role, 'anonymous'>;

/** REST: the status. Socket: 'ok' or the error code of the ack (the handshake's for anonymous). */
type Outcome =
  200 | 201 | 204 | 401 | 403 | 404 | 409 | 'ok' | 'forbidden' | 'not_found' | 'unauthorized';
type Row = readonly [
  route: string,
  owner: Outcome,
  admin: Outcome,
  member: Outcome,
  viewer: Outcome,
  nonMember: Outcome,
  anonymous: Outcome,
  removed: Outcome,
];

// prettier-ignore
const MATRIX: readonly Row[] = [
  // REST route                                             owner  admin  member viewer nonMem anon removed
  ['GET /healthz',                                           200,   200,   200,   200,   200,  200,  200],
  ['GET /readyz',                                            200,   200,   200,   200,   200,  200,  200],
  ['GET /metrics',                                           200,   200,   200,   200,   200,  200,  200],
  ['GET /api/openapi.json',                                  200,   200,   200,   200,   200,  200,  200],
  ['POST /api/auth/register',                                201,   201,   201,   201,   201,  201,  201],
  ['POST /api/auth/login',                                   200,   200,   200,   200,   200,  200,  200],
  // Refresh authenticates by the httpOnly cookie only: a bearer token is no substitute.
  ['POST /api/auth/refresh',                                 401,   401,   401,   401,   401,  401,  401],
  ['GET /api/auth/me',                                       200,   200,   200,   200,   200,  401,  200],
  ['GET /api/workspaces',                                    200,   200,   200,   200,   200,  401,  200],
  ['POST /api/workspaces',                                   201,   201,   201,   201,   201,  401,  201],
  ['GET /api/projects',                                      200,   200,   200,   200,   200,  401,  200],
  ['POST /api/projects',                                     201,   201,   201,   201,   201,  401,  201],
  ['GET /api/projects/:projectId',                           200,   200,   200,   200,   404,  401,  404],
  ['PATCH /api/projects/:projectId',                         200,   200,   403,   403,   404,  401,  404],
  ['DELETE /api/projects/:projectId',                        204,   403,   403,   403,   404,  401,  404],
  ['GET /api/projects/:projectId/members',                   200,   200,   200,   200,   404,  401,  404],
  ['POST /api/projects/:projectId/members',                  201,   201,   403,   403,   404,  401,  404],
  // Only an owner hands out the owner role.
  ['POST /api/projects/:projectId/members (role owner)',     201,   403,   403,   403,   404,  401,  404],
  ['PATCH /api/projects/:projectId/members/:userId',         200,   200,   403,   403,   404,  401,  404],
  ['DELETE /api/projects/:projectId/members/:userId',        204,   204,   403,   403,   404,  401,  404],
  // Anyone may leave a project (each cell leaves a fresh copy of it), but not its last owner
  // (409 last_owner); nor may its last owner be demoted (issue 8 item 5).
  ['DELETE /api/projects/:projectId/members/:userId (self)', 409,   204,   204,   204,   404,  401,  404],
  ['PATCH /api/projects/:projectId/members/:userId (owner)', 409,   403,   403,   403,   404,  401,  404],
  ['GET /api/projects/:projectId/tasks',                     200,   200,   200,   200,   404,  401,  404],
  ['POST /api/projects/:projectId/tasks',                    201,   201,   201,   403,   404,  401,  404],
  ['GET /api/tasks/:taskId',                                 200,   200,   200,   200,   404,  401,  404],
  ['PATCH /api/tasks/:taskId',                               200,   200,   200,   403,   404,  401,  404],
  ['POST /api/tasks/:taskId/move',                           200,   200,   200,   403,   404,  401,  404],
  ['DELETE /api/tasks/:taskId',                              204,   204,   204,   403,   404,  401,  404],
  ['GET /api/projects/:projectId/channels',                  200,   200,   200,   200,   404,  401,  404],
  ['POST /api/projects/:projectId/channels',                 201,   201,   201,   403,   404,  401,  404],
  ['GET /api/channels/:channelId/messages',                  200,   200,   200,   200,   404,  401,  404],
  ['POST /api/channels/:channelId/messages',                 201,   201,   201,   403,   404,  401,  404],
  // The owner's message: only its sender changes it (admins included: 403).
  ['PATCH /api/messages/:messageId',                         200,   403,   403,   403,   404,  401,  404],
  ['DELETE /api/messages/:messageId',                        204,   403,   403,   403,   404,  401,  404],
  ['GET /api/projects/:projectId/events',                    200,   200,   200,   200,   404,  401,  404],
  // [C8] The account's own changes act on the caller's account only: each cell uses a fresh user
  // holding the column's role in a fresh project (ending the shared users' sessions would end
  // the rows after), so the answer is the same for every signed-in role.
  ['POST /api/auth/password',                                200,   200,   200,   200,   200,  401,  200],
  ['DELETE /api/auth/me',                                    204,   204,   204,   204,   204,  401,  204],
  // Last: logging out ends a session of that user (a fresh login, not the token the rows use).
  ['POST /api/auth/logout',                                  204,   204,   204,   204,   204,  204,  204],
  // Socket event                                          owner  admin  member viewer      nonMember    anonymous       removed
  ['socket join:project',                                   'ok',  'ok',  'ok',  'ok',       'not_found', 'unauthorized', 'not_found'],
  ['socket task:create',                                    'ok',  'ok',  'ok',  'forbidden','not_found', 'unauthorized', 'not_found'],
  ['socket task:update',                                    'ok',  'ok',  'ok',  'forbidden','not_found', 'unauthorized', 'not_found'],
  ['socket task:move',                                      'ok',  'ok',  'ok',  'forbidden','not_found', 'unauthorized', 'not_found'],
  ['socket task:delete',                                    'ok',  'ok',  'ok',  'forbidden','not_found', 'unauthorized', 'not_found'],
  ['socket chat:join',                                      'ok',  'ok',  'ok',  'ok',       'not_found', 'unauthorized', 'not_found'],
  ['socket chat:message',                                   'ok',  'ok',  'ok',  'forbidden','not_found', 'unauthorized', 'not_found'],
  // [P5] Viewers cannot send typing events; [R3]: a non-member gets not_found.
  ['socket chat:typing',                                    'ok',  'ok',  'ok',  'forbidden','not_found', 'unauthorized', 'not_found'],
  // Leaving a room needs no access (it is a no-op where the socket is not in it).
  ['socket chat:leave',                                     'ok',  'ok',  'ok',  'ok',       'ok',        'unauthorized', 'ok'],
  ['socket leave:project',                                  'ok',  'ok',  'ok',  'ok',       'ok',        'unauthorized', 'ok'],
];

type U = Awaited<ReturnType<typeof registerUser>>;
let t: TestApi;
let api: ReturnType<typeof client>;
const users = {} as Record<Person, U>;
const sockets = {} as Record<Person, Socket>;
/** Users the member rows act on: added and removed (candidate), re-roled (subject). */
let candidate: U;
let subject: U;
let spare: U;
let projectId: string;
let channelId: string;
let taskId: string;
let ownerMessageId: string;
const opened: Socket[] = [];
let counter = 0;

const asOwner = () => users.owner.token;
const tokenOf = (role: Role) => (role === 'anonymous' ? undefined : users[role].token);

async function ok<T = any>(p: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const r = await p;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

/** A project with the same memberships as the shared one (the removed member added, then removed). */
async function projectLikeTheShared(): Promise<string> {
  const pid = (await ok(api.post('/api/projects', { name: 'Doomed' }, asOwner()), 201)).project.id;
  for (const role of ['admin', 'member', 'viewer', 'removed'] as const) {
    await ok(
      api.post(
        `/api/projects/${pid}/members`,
        { email: users[role].user.email, role: role === 'removed' ? 'member' : role },
        asOwner(),
      ),
      201,
    );
  }
  await ok(api.del(`/api/projects/${pid}/members/${users.removed.user.id}`, asOwner()), 204);
  return pid;
}

/**
 * A fresh user with `role` in a fresh project like the shared one ([C8] rows: the account routes
 * end every session of the account they act on). For `nonMember` and `anonymous`, in none.
 */
async function cloneOf(role: Role): Promise<U> {
  const clone = await registerUser(api, 'Clone');
  if (role === 'nonMember' || role === 'anonymous') return clone;
  const pid = await projectLikeTheShared();
  const add = (r: string) =>
    ok(
      api.post(`/api/projects/${pid}/members`, { email: clone.user.email, role: r }, asOwner()),
      201,
    );
  await add(role === 'removed' ? 'member' : role);
  if (role === 'removed')
    await ok(api.del(`/api/projects/${pid}/members/${clone.user.id}`, asOwner()), 204);
  return clone;
}

async function freshTask(): Promise<string> {
  const body = await ok(
    api.post(`/api/projects/${projectId}/tasks`, { title: `target ${counter++}` }, asOwner()),
    201,
  );
  return body.task.id as string;
}

/** Brings the candidate in (as a member) or out of the project, whatever it was before. */
async function candidateIn(inside: boolean) {
  const res = await api.del(`/api/projects/${projectId}/members/${candidate.user.id}`, asOwner());
  expect([204, 404]).toContain(res.status);
  if (inside) {
    await ok(
      api.post(
        `/api/projects/${projectId}/members`,
        { email: candidate.user.email, role: 'member' },
        asOwner(),
      ),
      201,
    );
  }
}

interface Req {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Defaults to the role's token; `null` sends none. */
  token?: string | null;
}

/** How each REST row is asked, as a given role (preparing a fresh target where a cell consumes it). */
const REST: Record<string, (role: Role) => Promise<Req> | Req> = {
  'GET /healthz': () => ({ method: 'GET', path: '/healthz' }),
  'GET /readyz': () => ({ method: 'GET', path: '/readyz' }),
  'GET /metrics': () => ({ method: 'GET', path: '/metrics' }),
  'GET /api/openapi.json': () => ({ method: 'GET', path: '/api/openapi.json' }),
  'POST /api/auth/register': () => ({
    method: 'POST',
    path: '/api/auth/register',
    body: {
      email: `matrix-${Date.now()}-${counter++}@example.test`,
      password: 'long password',
      name: 'M',
    },
  }),
  'POST /api/auth/login': () => ({
    method: 'POST',
    path: '/api/auth/login',
    body: { email: spare.user.email, password: spare.password },
  }),
  'POST /api/auth/refresh': () => ({ method: 'POST', path: '/api/auth/refresh' }),
  'POST /api/auth/logout': async (role) => {
    if (role === 'anonymous') return { method: 'POST', path: '/api/auth/logout' };
    const login = await api.post('/api/auth/login', {
      email: users[role].user.email,
      password: users[role].password,
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('cf_refresh='))!;
    return {
      method: 'POST',
      path: '/api/auth/logout',
      headers: { cookie },
      token: login.body.token as string,
    };
  },
  'GET /api/auth/me': () => ({ method: 'GET', path: '/api/auth/me' }),
  'POST /api/auth/password': async (role) => {
    const clone = await cloneOf(role);
    return {
      method: 'POST',
      path: '/api/auth/password',
      body: { currentPassword: clone.password, newPassword: 'a new long password' },
      token: role === 'anonymous' ? null : clone.token,
    };
  },
  'DELETE /api/auth/me': async (role) => {
    const clone = await cloneOf(role);
    return {
      method: 'DELETE',
      path: '/api/auth/me',
      body: { password: clone.password },
      token: role === 'anonymous' ? null : clone.token,
    };
  },
  'GET /api/workspaces': () => ({ method: 'GET', path: '/api/workspaces' }),
  'POST /api/workspaces': () => ({ method: 'POST', path: '/api/workspaces', body: { name: 'W' } }),
  'GET /api/projects': () => ({ method: 'GET', path: '/api/projects' }),
  'POST /api/projects': () => ({ method: 'POST', path: '/api/projects', body: { name: 'Mine' } }),
  'GET /api/projects/:projectId': () => ({ method: 'GET', path: `/api/projects/${projectId}` }),
  'PATCH /api/projects/:projectId': () => ({
    method: 'PATCH',
    path: `/api/projects/${projectId}`,
    body: { description: `edited ${counter++}` },
  }),
  'DELETE /api/projects/:projectId': async () => ({
    method: 'DELETE',
    path: `/api/projects/${await projectLikeTheShared()}`,
  }),
  'GET /api/projects/:projectId/members': () => ({
    method: 'GET',
    path: `/api/projects/${projectId}/members`,
  }),
  'POST /api/projects/:projectId/members': async () => {
    await candidateIn(false);
    return {
      method: 'POST',
      path: `/api/projects/${projectId}/members`,
      body: { email: candidate.user.email, role: 'viewer' },
    };
  },
  'POST /api/projects/:projectId/members (role owner)': async () => {
    await candidateIn(false);
    return {
      method: 'POST',
      path: `/api/projects/${projectId}/members`,
      body: { email: candidate.user.email, role: 'owner' },
    };
  },
  'PATCH /api/projects/:projectId/members/:userId': async () => {
    await ok(
      api.patch(
        `/api/projects/${projectId}/members/${subject.user.id}`,
        { role: 'member' },
        asOwner(),
      ),
      200,
    );
    return {
      method: 'PATCH',
      path: `/api/projects/${projectId}/members/${subject.user.id}`,
      body: { role: 'viewer' },
    };
  },
  'DELETE /api/projects/:projectId/members/:userId (self)': async (role) => {
    const pid = await projectLikeTheShared();
    const self = role === 'anonymous' ? users.member.user.id : users[role].user.id;
    return { method: 'DELETE', path: `/api/projects/${pid}/members/${self}` };
  },
  'PATCH /api/projects/:projectId/members/:userId (owner)': () => ({
    method: 'PATCH',
    path: `/api/projects/${projectId}/members/${users.owner.user.id}`,
    body: { role: 'admin' },
  }),
  'DELETE /api/projects/:projectId/members/:userId': async () => {
    await candidateIn(true);
    return { method: 'DELETE', path: `/api/projects/${projectId}/members/${candidate.user.id}` };
  },
  'GET /api/projects/:projectId/tasks': () => ({
    method: 'GET',
    path: `/api/projects/${projectId}/tasks`,
  }),
  'POST /api/projects/:projectId/tasks': () => ({
    method: 'POST',
    path: `/api/projects/${projectId}/tasks`,
    body: { title: 'new' },
  }),
  'GET /api/tasks/:taskId': () => ({ method: 'GET', path: `/api/tasks/${taskId}` }),
  'PATCH /api/tasks/:taskId': () => ({
    method: 'PATCH',
    path: `/api/tasks/${taskId}`,
    body: { title: `renamed ${counter++}` },
  }),
  'POST /api/tasks/:taskId/move': () => ({
    method: 'POST',
    path: `/api/tasks/${taskId}/move`,
    body: { status: counter++ % 2 ? 'review' : 'in-progress' },
  }),
  'DELETE /api/tasks/:taskId': async () => ({
    method: 'DELETE',
    path: `/api/tasks/${await freshTask()}`,
  }),
  'GET /api/projects/:projectId/channels': () => ({
    method: 'GET',
    path: `/api/projects/${projectId}/channels`,
  }),
  'POST /api/projects/:projectId/channels': () => ({
    method: 'POST',
    path: `/api/projects/${projectId}/channels`,
    body: { name: `room-${counter++}` },
  }),
  'GET /api/channels/:channelId/messages': () => ({
    method: 'GET',
    path: `/api/channels/${channelId}/messages`,
  }),
  'POST /api/channels/:channelId/messages': () => ({
    method: 'POST',
    path: `/api/channels/${channelId}/messages`,
    body: { content: 'hello' },
  }),
  'PATCH /api/messages/:messageId': () => ({
    method: 'PATCH',
    path: `/api/messages/${ownerMessageId}`,
    body: { content: `edited ${counter++}` },
  }),
  'DELETE /api/messages/:messageId': async () => {
    const m = await ok(
      api.post(`/api/channels/${channelId}/messages`, { content: 'to delete' }, asOwner()),
      201,
    );
    return { method: 'DELETE', path: `/api/messages/${m.message.id}` };
  },
  'GET /api/projects/:projectId/events': () => ({
    method: 'GET',
    path: `/api/projects/${projectId}/events`,
  }),
};

/** The payload of each socket row (a fresh task where the cell deletes it). */
const SOCKET: Record<string, () => Promise<unknown> | unknown> = {
  'join:project': () => ({ projectId }),
  'leave:project': () => projectId,
  'task:create': () => ({ projectId, task: { title: 'from a socket' } }),
  'task:update': () => ({ projectId, taskId, updates: { title: `socket ${counter++}` } }),
  'task:move': () => ({ projectId, taskId, toStatus: counter++ % 2 ? 'done' : 'todo' }),
  'task:delete': async () => ({ projectId, taskId: await freshTask() }),
  'chat:join': () => channelId,
  'chat:leave': () => channelId,
  'chat:message': () => ({ channelId, content: 'from a socket' }),
  'chat:typing': () => ({ channelId, isTyping: true }),
};

const cells = (row: Row) => ROLES.map((role, i) => [role, row[i + 1] as Outcome] as const);
/** The database of the in-process server, every document: a refused cell changes none. */
const database = () => dbSnapshot(mongoose.connection);
const restRows = MATRIX.filter(([r]) => !r.startsWith('socket '));
const socketRows = MATRIX.filter(([r]) => r.startsWith('socket '));

beforeAll(async () => {
  t = await startApi({
    REDIS_URL: inject('redisUrl'),
    // The matrix is about who may, not how often: budgets wide enough for every cell.
    RATE_LIMIT_SOCKET_MUTATIONS: '100000',
    RATE_LIMIT_SOCKET_CHAT: '100000',
    RATE_LIMIT_SOCKET_TYPING: '100000',
    // Every test file connects from 127.0.0.1: the per-address handshake budget is not under test.
    RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
  });
  api = client(t.url);
  const people = await Promise.all(
    [...ROLES.filter((r) => r !== 'anonymous'), 'candidate', 'subject', 'spare'].map((n) =>
      registerUser(api, n),
    ),
  );
  ROLES.filter((r): r is Person => r !== 'anonymous').forEach((r, i) => (users[r] = people[i]!));
  [candidate, subject, spare] = people.slice(-3) as [U, U, U];

  projectId = (await ok(api.post('/api/projects', { name: 'Matrix' }, asOwner()), 201)).project.id;
  for (const [who, role] of [
    [users.admin, 'admin'],
    [users.member, 'member'],
    [users.viewer, 'viewer'],
    [users.removed, 'member'],
    [subject, 'member'],
  ] as const) {
    await ok(
      api.post(`/api/projects/${projectId}/members`, { email: who.user.email, role }, asOwner()),
      201,
    );
  }
  channelId = (await ok(api.get(`/api/projects/${projectId}/channels`, asOwner()), 200)).channels[0]
    .id;
  taskId = await freshTask();
  ownerMessageId = (
    await ok(api.post(`/api/channels/${channelId}/messages`, { content: 'mine' }, asOwner()), 201)
  ).message.id;

  for (const role of ROLES) {
    if (role === 'anonymous') continue;
    const s = socketFor(t.url, users[role].token);
    opened.push(s);
    await connected(s);
    sockets[role] = s;
    const member = role !== 'nonMember';
    // Members (and the one about to be removed) are in the project and its channel, as a
    // client is after opening the board; the typing and chat rows need the channel room.
    expect((await call(s, 'join:project', { projectId })).ok).toBe(member);
    expect((await call(s, 'chat:join', channelId)).ok).toBe(member);
  }
  // The removed member: removed over REST while its socket is in the project and the channel.
  const removedSeen: string[] = [];
  sockets.removed.on('member:removed', (p: { userId: string }) => removedSeen.push(p.userId));
  await ok(api.del(`/api/projects/${projectId}/members/${users.removed.user.id}`, asOwner()), 204);
  await waitUntil(
    () => removedSeen.includes(users.removed.user.id),
    5000,
    'member:removed on the removed member’s socket',
  );
  expect(sockets.removed.connected).toBe(true);
});

afterAll(async () => {
  for (const s of opened) s.disconnect();
  await t?.close();
});

describe('the matrix covers every route and every client event', () => {
  it('every REST route of backend/src/**/*.routes.ts, the SSE route and the OpenAPI document has a row', () => {
    const src = join(import.meta.dirname, '../src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.routes.ts') || f.endsWith('sse.ts'),
    );
    const found = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(src, f), 'utf8');
      const prefix = f.includes('auth') ? '/api/auth' : '/api';
      for (const m of text.matchAll(/\br\.(get|post|patch|put|delete)\(\s*'([^']+)'/g))
        found.add(`${m[1]!.toUpperCase()} ${prefix}${m[2]}`);
    }
    for (const [path, ops] of Object.entries(buildOpenApi('test').paths as Record<string, object>))
      for (const method of Object.keys(ops))
        found.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    expect(found.size).toBeGreaterThan(25);
    const rows = new Set(restRows.map(([r]) => r));
    expect([...found].filter((r) => !rows.has(r))).toEqual([]);
    // ...and every row has a way to ask it.
    expect(restRows.map(([r]) => r).filter((r) => !REST[r])).toEqual([]);
  });

  it('every client → server event of @collabflow/shared has a row', () => {
    const text = readFileSync(join(import.meta.dirname, '../../shared/src/events.ts'), 'utf8');
    const block = /interface ClientToServerEvents \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
    const events = [...block.matchAll(/'([\w:]+)':/g)].map((m) => m[1]!);
    expect(events.length).toBeGreaterThanOrEqual(10);
    expect(socketRows.map(([r]) => r.slice('socket '.length)).sort()).toEqual(events.sort());
    expect(Object.keys(SOCKET).sort()).toEqual(events.sort());
  });
});

describe.each(socketRows.map((row) => ({ event: row[0].slice(7), row })))(
  '[R3] socket $event',
  ({ event, row }) => {
    it.each(cells(row))('%s → %s', async (role, expected) => {
      if (role === 'anonymous') {
        // [C1] No token, no socket: the handshake itself is refused.
        const h = await handshake(t.url, undefined);
        if (h.connected) h.socket.disconnect();
        expect(h.connected ? 'connected' : h.code).toBe(expected);
        return;
      }
      const s = sockets[role];
      expect(s.connected).toBe(true);
      const payload = await SOCKET[event]!();
      const before = expected === 'ok' ? undefined : await database();
      const ack = await call(s, event, payload);
      if (expected === 'ok') {
        expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true });
      } else {
        expect(ack).toEqual({ ok: false, error: { code: expected, message: expect.any(String) } });
        expect(await database()).toEqual(before);
      }
      // Refused or not, the socket stays connected (a removed member's included, [C5]).
      expect(s.connected).toBe(true);
    });
  },
);

describe.each(restRows.map((row) => ({ route: row[0], row })))('REST $route', ({ route, row }) => {
  it.each(cells(row))('%s → %s', async (role, expected) => {
    const req = await REST[route]!(role);
    const token = req.token === null ? undefined : (req.token ?? tokenOf(role));
    if (route === 'GET /api/projects/:projectId/events') {
      const sse = await sseOpen(t.url, projectId, token);
      expect(sse.status).toBe(expected);
      if (expected === 200) expect(sse.contentType).toMatch(/^text\/event-stream/);
      else
        expect(sse.body).toEqual({
          error: { code: CODE[expected as number], message: expect.any(String) },
        });
      return;
    }
    const refused = typeof expected === 'number' && expected >= 400;
    const before = refused && req.method !== 'GET' ? await database() : undefined;
    const res = await api.call(req.method, req.path, {
      body: req.body,
      token,
      headers: req.headers,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(expected);
    if (refused) {
      expect(res.body).toEqual({
        error: { code: CODE[expected as number], message: expect.any(String) },
      });
      // A refused change changes nothing.
      if (before) expect(await database()).toEqual(before);
    }
  });
});

const CODE: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'last_owner',
};

/**
 * Forged and dead access tokens get nowhere (issue 8): a token signed with the wrong key, an
 * unsigned one (`alg: none`), one whose payload was edited, an expired one, the token of a user
 * whose account was deleted (`DELETE /api/auth/me`, rule [C8]), a token from before a password
 * change ([C8]) and the token of a user who logged out ([C6]) are each refused on every door: REST (401 with a structured error, nothing
 * changes), the Socket.IO handshake (`connect_error` with `err.data.code`, rule [C1]) and the
 * SSE stream (401).
 * A valid token passes each door (the control), so every refusal below can fail.
 * One in-process server with the shared Redis and its own FerretDB database.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Types } from 'mongoose';
import { User } from '../src/auth/user.model.js';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';
import { handshake, signAccess, sseOpen, tamper, unsigned } from './helpers/probe.js';

type User = Awaited<ReturnType<typeof registerUser>>;
type Code = 'unauthorized' | 'token_expired';

const OTHER_SECRET = 'another-secret-that-is-long-enough-for-hs256-9876543210';
const now = () => Math.floor(Date.now() / 1000);

let t: TestApi;
let api: ReturnType<typeof client>;
let owner: User;
let mate: User;
let doomed: User;
let leaver: { token: string; id: string };
let changer: User;
/** The session the password change answered with (it works: only older sessions end). */
let changed: string;
let projectId: string;
let channelId: string;

/** The dead or forged tokens, each with the code every door must answer with. */
const TOKENS: { name: string; code: Code; token: () => string; rule?: string }[] = [
  {
    name: 'signed with the wrong key',
    code: 'unauthorized',
    token: () => signAccess(mate.user.id, { secret: OTHER_SECRET }),
  },
  { name: 'alg: none, no signature', code: 'unauthorized', token: () => unsigned(mate.user.id) },
  {
    name: 'alg: none, a real signature kept',
    code: 'unauthorized',
    token: () => unsigned(mate.user.id, 'none', mate.token.split('.')[2]),
  },
  {
    name: 'tampered payload (another subject: the owner)',
    code: 'unauthorized',
    token: () => tamper(mate.token, { sub: owner.user.id }),
  },
  {
    name: 'tampered payload (expiry pushed back)',
    code: 'unauthorized',
    token: () => tamper(signAccess(mate.user.id, { exp: now() - 60 }), { exp: now() + 3600 }),
  },
  {
    name: 'expired',
    code: 'token_expired',
    token: () => signAccess(mate.user.id, { exp: now() - 5 }),
  },
  {
    name: 'of a deleted user',
    code: 'unauthorized',
    token: () => doomed.token,
    rule: '[C8] ',
  },
  {
    name: 'from before a password change',
    code: 'unauthorized',
    token: () => changer.token,
    rule: '[C8] ',
  },
  {
    name: 'of a user who logged out',
    code: 'unauthorized',
    token: () => leaver.token,
    rule: '[C6] ',
  },
];

/** The REST requests every token is tried on: reads and writes, with what a success answers. */
const REQUESTS: { method: string; path: () => string; body?: unknown; ok: number }[] = [
  { method: 'GET', path: () => '/api/auth/me', ok: 200 },
  { method: 'GET', path: () => '/api/projects', ok: 200 },
  { method: 'GET', path: () => `/api/projects/${projectId}`, ok: 200 },
  { method: 'GET', path: () => `/api/projects/${projectId}/tasks`, ok: 200 },
  { method: 'POST', path: () => `/api/projects/${projectId}/tasks`, body: { title: 'x' }, ok: 201 },
  {
    method: 'POST',
    path: () => `/api/channels/${channelId}/messages`,
    body: { content: 'x' },
    ok: 201,
  },
  { method: 'POST', path: () => '/api/workspaces', body: { name: 'w' }, ok: 201 },
];

async function snapshot() {
  const [tasks, messages, members, workspaces] = await Promise.all([
    api.get(`/api/projects/${projectId}/tasks`, owner.token),
    api.get(`/api/channels/${channelId}/messages?limit=100`, owner.token),
    api.get(`/api/projects/${projectId}/members`, owner.token),
    api.get('/api/workspaces', owner.token),
  ]);
  for (const r of [tasks, messages, members, workspaces]) expect(r.status).toBe(200);
  return {
    tasks: tasks.body.tasks,
    messages: messages.body.messages,
    members: members.body.members,
  };
}

async function expectRestOk(token: string) {
  for (const r of REQUESTS) {
    const res = await api.call(r.method, r.path(), { token, body: r.body });
    expect(res.status, `${r.method} ${r.path()}`).toBe(r.ok);
  }
}

async function expectSseOpen(token: string) {
  const sse = await sseOpen(t.url, projectId, token);
  expect(sse.status).toBe(200);
  expect(sse.contentType).toMatch(/^text\/event-stream/);
}

beforeAll(async () => {
  t = await startApi({
    REDIS_URL: inject('redisUrl'),
    // Every test file connects from 127.0.0.1: the per-address handshake budget is not under test.
    RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
  });
  api = client(t.url);
  owner = await registerUser(api, 'Owner');
  mate = await registerUser(api, 'Mate');
  doomed = await registerUser(api, 'Doomed');
  const leaving = await registerUser(api, 'Leaver');
  changer = await registerUser(api, 'Changer');
  projectId = (await api.post('/api/projects', { name: 'Tokens' }, owner.token)).body.project.id;
  for (const u of [mate, doomed, leaving, changer]) {
    const added = await api.post(
      `/api/projects/${projectId}/members`,
      { email: u.user.email, role: 'member' },
      owner.token,
    );
    expect(added.status).toBe(201);
  }
  channelId = (await api.get(`/api/projects/${projectId}/channels`, owner.token)).body.channels[0]
    .id;

  // The deleted user: its token worked on every door, then the account is deleted the product's
  // way (DELETE /api/auth/me, rule [C8]) and is gone from the database.
  await expectRestOk(doomed.token);
  await expectSseOpen(doomed.token);
  const alive = await handshake(t.url, doomed.token);
  expect(alive.connected).toBe(true);
  if (alive.connected) alive.socket.disconnect();
  const gone = await api.call('DELETE', '/api/auth/me', {
    token: doomed.token,
    body: { password: doomed.password },
  });
  expect(gone.status).toBe(204);
  expect(await User.exists({ _id: new Types.ObjectId(doomed.user.id) })).toBeNull();

  // The user who changes their password: the session from before worked on every door; the
  // change ends it and answers a fresh one.
  await expectRestOk(changer.token);
  await expectSseOpen(changer.token);
  const before = await handshake(t.url, changer.token);
  expect(before.connected).toBe(true);
  if (before.connected) before.socket.disconnect();
  const change = await api.call('POST', '/api/auth/password', {
    token: changer.token,
    body: { currentPassword: changer.password, newPassword: 'a brand new password' },
  });
  expect(change.status).toBe(200);
  changed = change.body.token as string;
  expect(changed).not.toBe(changer.token);

  // The user who logs out: a login session whose access token worked on every door, then logout
  // with its refresh cookie and its bearer token.
  const login = await api.post('/api/auth/login', {
    email: leaving.user.email,
    password: leaving.password,
  });
  expect(login.status).toBe(200);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('cf_refresh='));
  expect(cookie).toBeDefined();
  leaver = { token: login.body.token as string, id: leaving.user.id };
  await expectRestOk(leaver.token);
  await expectSseOpen(leaver.token);
  const live = await handshake(t.url, leaver.token);
  expect(live.connected).toBe(true);
  if (live.connected) live.socket.disconnect();
  const out = await api.call('POST', '/api/auth/logout', {
    token: leaver.token,
    headers: { cookie: cookie! },
  });
  expect(out.status).toBe(204);
});

afterAll(async () => {
  await t?.close();
});

describe('control: a valid token passes every door', () => {
  it('[C8] the session a password change answers with passes REST, the handshake and SSE', async () => {
    await expectRestOk(changed);
    const h = await handshake(t.url, changed);
    expect(h.connected).toBe(true);
    if (h.connected) h.socket.disconnect();
    await expectSseOpen(changed);
  });
  it('REST answers each request', async () => {
    await expectRestOk(mate.token);
  });
  it('[C1] the socket handshake connects', async () => {
    const h = await handshake(t.url, mate.token);
    expect(h.connected).toBe(true);
    if (h.connected) h.socket.disconnect();
  });
  it('the SSE stream opens', async () => {
    await expectSseOpen(mate.token);
  });
});

describe.each(TOKENS)('a token $name', ({ code, token, rule = '' }) => {
  it(`${rule}REST: 401 ${code} with a structured error on every request, nothing changes`, async () => {
    const before = await snapshot();
    const bad = token();
    const answers: string[] = [];
    for (const r of REQUESTS) {
      const res = await api.call(r.method, r.path(), { token: bad, body: r.body });
      const structured =
        typeof res.body?.error?.message === 'string' && Object.keys(res.body).length === 1;
      answers.push(
        `${r.method} ${r.path()} → ${res.status} ${structured ? res.body.error.code : JSON.stringify(res.body)}`,
      );
    }
    expect(answers).toEqual(REQUESTS.map((r) => `${r.method} ${r.path()} → 401 ${code}`));
    expect(await snapshot()).toEqual(before);
  });

  it(`${rule}[C1] socket handshake: connect_error with code ${code}`, async () => {
    const h = await handshake(t.url, token());
    if (h.connected) h.socket.disconnect();
    expect(h.connected).toBe(false);
    expect(h.connected === false && h.code).toBe(code);
  });

  it(`${rule}SSE /api/projects/:id/events: 401 ${code}`, async () => {
    const sse = await sseOpen(t.url, projectId, token());
    expect(sse.status).toBe(401);
    expect(sse.body).toEqual({ error: { code, message: expect.any(String) } });
  });
});

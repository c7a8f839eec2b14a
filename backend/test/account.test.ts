/**
 * The account's own changes end every session of the user at once, everywhere (issue 8, item 3,
 * rule [C8]): `POST /api/auth/password` and `DELETE /api/auth/me`. Every refresh token of the
 * user is refused, every access token issued before the change is refused on every replica
 * (REST, the socket handshake, SSE: a per-user cutoff against the token's `iat`, in Redis; in
 * memory without Redis), and the user's sockets and SSE streams end on every replica. A wrong
 * password, and a deletion refused because the user is a project's only owner, change nothing.
 * Two replica processes share one Redis and one FerretDB; one in-process server without Redis
 * for the in-memory cutoff and the login limits.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mongoose from 'mongoose';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser, startApi, type TestApi } from './helpers/api.js';
import {
  call,
  collect,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';
import { handshake, sseOpen } from './helpers/probe.js';

type Api = ReturnType<typeof client>;
type Registered = Awaited<ReturnType<typeof registerUser>>;

const NEW_PASSWORD = 'a brand new passphrase';

/** The refresh cookie (`cf_refresh=...`) an answer sets, if any. */
function refreshCookie(headers: Headers): string | undefined {
  return headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('cf_refresh='));
}

/** Logs in and returns the access token and the refresh cookie. */
async function login(api: Api, email: string, password: string) {
  const r = await api.post('/api/auth/login', { email, password });
  expect(r.status).toBe(200);
  const cookie = refreshCookie(r.headers);
  expect(cookie).toBeDefined();
  return { token: r.body.token as string, cookie: cookie! };
}

async function expectRefused(url: string, token: string, projectId: string) {
  const me = await client(url).get('/api/auth/me', token);
  expect(me.status).toBe(401);
  expect(me.body.error.code).toBe('unauthorized');
  const h = await handshake(url, token);
  if (h.connected) h.socket.disconnect();
  expect(h.connected).toBe(false);
  expect(h.connected === false && h.code).toBe('unauthorized');
  const sse = await sseOpen(url, projectId, token);
  expect(sse.status).toBe(401);
}

async function expectAccepted(url: string, token: string, projectId: string) {
  expect((await client(url).get('/api/auth/me', token)).status).toBe(200);
  const h = await handshake(url, token);
  expect(h.connected).toBe(true);
  if (h.connected) h.socket.disconnect();
  expect((await sseOpen(url, projectId, token)).status).toBe(200);
}

async function refreshStatus(url: string, cookie: string): Promise<number> {
  return (await client(url).call('POST', '/api/auth/refresh', { headers: { cookie } })).status;
}

/** An open SSE stream; `ended()` says whether the server has ended it. */
async function openStream(url: string, projectId: string, token: string) {
  const res = await fetch(`${url}/api/projects/${projectId}/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = '';
  let done = false;
  void (async () => {
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
    } catch {
      /* aborted: ended too */
    }
    done = true;
  })();
  return {
    ended: () => done,
    text: () => text,
    close: () => reader.cancel().catch(() => undefined),
  };
}

describe('[C8] two replica processes sharing Redis', () => {
  let a: Replica;
  let b: Replica;
  let apiA: Api;
  let mongoUri: string;
  let db: mongoose.Connection;
  const sockets: Socket[] = [];
  const streams: { close(): Promise<unknown> }[] = [];

  /** A connected socket (kept for the clean-up). */
  async function socketOn(url: string, token: string): Promise<Socket> {
    const s = socketFor(url, token);
    sockets.push(s);
    await connected(s);
    return s;
  }

  /** Records how the socket was disconnected, if it was. */
  function disconnects(s: Socket): string[] {
    const reasons: string[] = [];
    s.on('disconnect', (r) => reasons.push(r));
    return reasons;
  }

  async function project(owner: Registered, name: string): Promise<string> {
    const r = await apiA.post('/api/projects', { name }, owner.token);
    expect(r.status).toBe(201);
    return r.body.project.id as string;
  }

  async function addMember(projectId: string, by: Registered, who: Registered, role: string) {
    const r = await apiA.post(
      `/api/projects/${projectId}/members`,
      { email: who.user.email, role },
      by.token,
    );
    expect(r.status).toBe(201);
  }

  async function memberIds(projectId: string, as: Registered): Promise<string[]> {
    const r = await apiA.get(`/api/projects/${projectId}/members`, as.token);
    expect(r.status).toBe(200);
    return (r.body.members as { userId: string }[]).map((m) => m.userId).sort();
  }

  beforeAll(async () => {
    mongoUri = freshMongoUri('account');
    const env = { REDIS_URL: inject('redisUrl'), MONGODB_URI: mongoUri };
    [a, b] = await Promise.all([startReplica('account-a', env), startReplica('account-b', env)]);
    apiA = client(a.url);
    db = await mongoose.createConnection(mongoUri).asPromise();
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const s of streams) await s.close();
    await db?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('[C8] a password change on A: every older access token and refresh cookie is refused at once on both replicas, sockets on both and an SSE stream on B end; the fresh session works on both', async () => {
    const user = await registerUser(apiA, 'Changer');
    const projectId = await project(user, 'Password');
    const other = await login(client(b.url), user.user.email, user.password);
    const current = await login(apiA, user.user.email, user.password);
    await expectAccepted(b.url, other.token, projectId);
    const onA = await socketOn(a.url, current.token);
    const onB = await socketOn(b.url, other.token);
    const [reasonsA, reasonsB] = [disconnects(onA), disconnects(onB)];
    const stream = await openStream(b.url, projectId, current.token);
    streams.push(stream);

    const changed = await apiA.call('POST', '/api/auth/password', {
      token: current.token,
      body: { currentPassword: user.password, newPassword: NEW_PASSWORD },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.user.id).toBe(user.user.id);
    const fresh = { token: changed.body.token as string, cookie: refreshCookie(changed.headers) };
    expect(fresh.cookie).toBeDefined();

    // Refused at once, on both replicas, every older token of either session and the
    // registration's.
    for (const token of [current.token, other.token, user.token]) {
      await expectRefused(b.url, token, projectId);
      await expectRefused(a.url, token, projectId);
    }
    for (const cookie of [current.cookie, other.cookie]) {
      expect(await refreshStatus(b.url, cookie)).toBe(401);
    }
    await waitUntil(
      () => reasonsA.length === 1 && reasonsB.length === 1 && stream.ended(),
      5000,
      'sockets on both replicas and the SSE stream to end',
    );
    expect([...reasonsA, ...reasonsB]).toEqual(['io server disconnect', 'io server disconnect']);
    expect(stream.text()).toContain('"reason":"logged_out"');

    // The fresh session works on both replicas, and refreshes.
    await expectAccepted(a.url, fresh.token, projectId);
    await expectAccepted(b.url, fresh.token, projectId);
    expect(await refreshStatus(b.url, fresh.cookie!)).toBe(200);
    // The old password no longer logs in; the new one does.
    const old = await client(b.url).post('/api/auth/login', {
      email: user.user.email,
      password: user.password,
    });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('invalid_credentials');
    await login(client(b.url), user.user.email, NEW_PASSWORD);
  });

  it('[C8] a wrong current password changes nothing: 401 invalid_credentials, the password, the tokens, the refresh cookie and a socket on B stay', async () => {
    const user = await registerUser(apiA, 'Mistyped');
    const projectId = await project(user, 'Mistyped');
    const session = await login(apiA, user.user.email, user.password);
    const onB = await socketOn(b.url, session.token);
    const reasons = disconnects(onB);
    expect((await call(onB, 'join:project', projectId)).ok).toBe(true);
    const created = collect<{ task: { title: string } }>(onB, 'task:created');

    for (const body of [
      { currentPassword: 'not the password', newPassword: NEW_PASSWORD },
      { currentPassword: user.password, newPassword: 'short' },
    ]) {
      const r = await apiA.call('POST', '/api/auth/password', { token: session.token, body });
      expect(r.status).toBe(body.newPassword === 'short' ? 400 : 401);
      expect(r.body.error.code).toBe(
        body.newPassword === 'short' ? 'validation_failed' : 'invalid_credentials',
      );
      expect(refreshCookie(r.headers)).toBeUndefined();
    }

    // Sentinel: a project event sent from A after the refusals reaches the socket on B, which
    // was not disconnected.
    const sentinel = await apiA.post(
      `/api/projects/${projectId}/tasks`,
      { title: 'sentinel' },
      session.token,
    );
    expect(sentinel.status).toBe(201);
    await waitUntil(
      () => created.some((e) => e.task.title === 'sentinel'),
      5000,
      'the sentinel task:created on B',
    );
    expect(reasons).toEqual([]);
    expect(onB.connected).toBe(true);
    await expectAccepted(b.url, session.token, projectId);
    await expectAccepted(b.url, user.token, projectId);
    expect(await refreshStatus(b.url, session.cookie)).toBe(200);
    await login(client(b.url), user.user.email, user.password);
  });

  it('[C8] deleting the account on A: it leaves every project (member:removed on B), its sockets on both replicas and an SSE stream on B end, every token and refresh cookie is refused on both, its empty workspace goes', async () => {
    const owner = await registerUser(apiA, 'Stays');
    const doomed = await registerUser(apiA, 'Doomed');
    const shared = await project(owner, 'Shared');
    await addMember(shared, owner, doomed, 'member');
    // A project the doomed user owns together with someone else: not a blocker.
    const coOwned = await project(doomed, 'CoOwned');
    await addMember(coOwned, doomed, owner, 'owner');
    const workspace = await apiA.post('/api/workspaces', { name: 'Empty' }, doomed.token);
    expect(workspace.status).toBe(201);
    const session = await login(apiA, doomed.user.email, doomed.password);

    const ownerOnB = await socketOn(b.url, owner.token);
    for (const p of [shared, coOwned])
      expect((await call(ownerOnB, 'join:project', p)).ok).toBe(true);
    const removed = collect<{ projectId: string; userId: string }>(ownerOnB, 'member:removed');
    const onA = await socketOn(a.url, session.token);
    const onB = await socketOn(b.url, doomed.token);
    const [reasonsA, reasonsB] = [disconnects(onA), disconnects(onB)];
    const stream = await openStream(b.url, shared, session.token);
    streams.push(stream);

    const gone = await apiA.call('DELETE', '/api/auth/me', {
      token: session.token,
      body: { password: doomed.password },
    });
    expect(gone.status).toBe(204);
    expect(gone.headers.getSetCookie().some((c) => /^cf_refresh=;/.test(c))).toBe(true);

    for (const token of [session.token, doomed.token]) {
      await expectRefused(b.url, token, shared);
      await expectRefused(a.url, token, shared);
    }
    expect(await refreshStatus(b.url, session.cookie)).toBe(401);
    const relogin = await client(b.url).post('/api/auth/login', {
      email: doomed.user.email,
      password: doomed.password,
    });
    expect(relogin.status).toBe(401);
    await waitUntil(
      () => reasonsA.length === 1 && reasonsB.length === 1 && stream.ended(),
      5000,
      'the deleted user’s sockets and SSE stream to end',
    );
    await waitUntil(() => removed.length === 2, 5000, 'member:removed for both projects on B');
    expect(removed.map((e) => [e.projectId, e.userId]).sort()).toEqual(
      [
        [shared, doomed.user.id],
        [coOwned, doomed.user.id],
      ].sort(),
    );
    expect(await memberIds(shared, owner)).toEqual([owner.user.id]);
    expect(await memberIds(coOwned, owner)).toEqual([owner.user.id]);
    const uid = new mongoose.Types.ObjectId(doomed.user.id);
    expect(await db.collection('users').countDocuments({ _id: uid })).toBe(0);
    expect(await db.collection('refreshtokens').countDocuments({ userId: uid })).toBe(0);
    expect(await db.collection('workspaces').countDocuments({ ownerId: uid })).toBe(0);
  });

  it('[C8] deleting the account of a project’s only owner is refused with 409 last_owner and changes nothing; so is a wrong password', async () => {
    const owner = await registerUser(apiA, 'Owner');
    const lone = await registerUser(apiA, 'Lone');
    const shared = await project(owner, 'Shared2');
    await addMember(shared, owner, lone, 'admin');
    const own1 = await project(lone, 'Mine1');
    const own2 = await project(lone, 'Mine2');
    const session = await login(apiA, lone.user.email, lone.password);
    const onB = await socketOn(b.url, session.token);
    const reasons = disconnects(onB);
    expect((await call(onB, 'join:project', own1)).ok).toBe(true);
    const created = collect<{ task: { title: string } }>(onB, 'task:created');
    const before = {
      shared: await memberIds(shared, owner),
      own1: await memberIds(own1, lone),
      own2: await memberIds(own2, lone),
    };

    const refused = await apiA.call('DELETE', '/api/auth/me', {
      token: session.token,
      body: { password: lone.password },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: 'last_owner',
      message: expect.stringContaining('only owner of 2 projects'),
      details: { projects: expect.arrayContaining([own1, own2]) },
    });
    expect(refused.body.error.details.projects).toHaveLength(2);
    const wrong = await apiA.call('DELETE', '/api/auth/me', {
      token: session.token,
      body: { password: 'not the password' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');

    // Sentinel: an event sent after both refusals reaches the socket on B, still connected.
    const sentinel = await apiA.post(
      `/api/projects/${own1}/tasks`,
      { title: 'sentinel' },
      session.token,
    );
    expect(sentinel.status).toBe(201);
    await waitUntil(
      () => created.some((e) => e.task.title === 'sentinel'),
      5000,
      'the sentinel task:created on B',
    );
    expect(reasons).toEqual([]);
    expect({
      shared: await memberIds(shared, owner),
      own1: await memberIds(own1, lone),
      own2: await memberIds(own2, lone),
    }).toEqual(before);
    await expectAccepted(a.url, session.token, own1);
    await expectAccepted(b.url, session.token, shared);
    expect(await refreshStatus(b.url, session.cookie)).toBe(200);
    await login(client(b.url), lone.user.email, lone.password);
  });
});

describe('[C8] without Redis (one process, the cutoff in memory)', () => {
  let t: TestApi;
  let api: Api;
  beforeAll(async () => {
    // Two failures for an e-mail make its failing address wait (the login limits).
    t = await startApi({ RATE_LIMIT_LOGIN_PER_EMAIL: '2' });
    api = client(t.url);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('[C8] a password change refuses the older tokens and keeps the fresh one; a deletion refuses its token', async () => {
    const user = await registerUser(api, 'Memory');
    const projectId = (await api.post('/api/projects', { name: 'Mem' }, user.token)).body.project
      .id as string;
    const changed = await api.call('POST', '/api/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: NEW_PASSWORD },
    });
    expect(changed.status).toBe(200);
    await expectRefused(t.url, user.token, projectId);
    const fresh = changed.body.token as string;
    await expectAccepted(t.url, fresh, projectId);

    const other = await registerUser(api, 'Memory2');
    const gone = await api.call('DELETE', '/api/auth/me', {
      token: other.token,
      body: { password: other.password },
    });
    expect(gone.status).toBe(204);
    expect((await api.get('/api/projects', other.token)).status).toBe(401);
    expect((await api.get('/api/projects', fresh)).status).toBe(200);
  });

  it('[C8] a wrong current password counts as a failed login: past the per-e-mail limit the address waits (429), even with the right password', async () => {
    const user = await registerUser(api, 'Guessed');
    const from = { 'x-forwarded-for': '203.0.113.9' };
    for (let i = 0; i < 2; i++) {
      const r = await api.call('POST', '/api/auth/password', {
        token: user.token,
        headers: from,
        body: { currentPassword: `guess ${i}`, newPassword: NEW_PASSWORD },
      });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('invalid_credentials');
    }
    const held = await api.call('POST', '/api/auth/password', {
      token: user.token,
      headers: from,
      body: { currentPassword: user.password, newPassword: NEW_PASSWORD },
    });
    expect(held.status).toBe(429);
    expect(held.body.error.code).toBe('rate_limited');
    // Nothing changed: the password still logs in, from an address that did not fail.
    const ok = await api.call('POST', '/api/auth/login', {
      headers: { 'x-forwarded-for': '198.51.100.7' },
      body: { email: user.user.email, password: user.password },
    });
    expect(ok.status).toBe(200);
    expect((await api.get('/api/auth/me', user.token)).status).toBe(200);
  });
});

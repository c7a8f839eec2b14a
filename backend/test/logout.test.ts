/**
 * Logout ends a session at once, everywhere (issue 8, item 3, rule [C6]): the access tokens of
 * the login session stop working on every replica the moment logout answers (a denylist by
 * session id and token id in Redis, in memory without Redis), on REST, the socket handshake and
 * SSE; the user's live sockets and SSE streams are ended on every replica (`ctx.sessions.endUser`,
 * carried out by the real-time layer). Two replica processes share one Redis and one FerretDB.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser, startApi, type TestApi } from './helpers/api.js';
import { connected, socketFor, startReplica, waitUntil, type Replica } from './helpers/cluster.js';
import { claimsOf, handshake, sseOpen } from './helpers/probe.js';

type Api = ReturnType<typeof client>;

/** Logs in and returns the access token and the refresh cookie (`cf_refresh=...`). */
async function login(api: Api, email: string, password: string) {
  const r = await api.post('/api/auth/login', { email, password });
  expect(r.status).toBe(200);
  const cookie = r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('cf_refresh='));
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

describe('access tokens carry their own id and their login session', () => {
  it('every token has a distinct jti; tokens of one login share a sid, another login has its own', async () => {
    const t = await startApi();
    try {
      const api = client(t.url);
      const u = await registerUser(api, 'Ids');
      const a = await login(api, u.user.email, u.password);
      const refreshed = await api.call('POST', '/api/auth/refresh', {
        headers: { cookie: a.cookie },
      });
      expect(refreshed.status).toBe(200);
      const b = await login(api, u.user.email, u.password);
      const [ca, cr, cb] = [a.token, refreshed.body.token as string, b.token].map(claimsOf);
      expect(new Set([ca!.jti, cr!.jti, cb!.jti]).size).toBe(3);
      expect(ca!.sid).toEqual(expect.any(String));
      expect(cr!.sid).toBe(ca!.sid);
      expect(cb!.sid).not.toBe(ca!.sid);
    } finally {
      await t.close();
    }
  });
});

describe('[C6] logout on one replica ends the session on every replica (two processes, Redis)', () => {
  let a: Replica;
  let b: Replica;
  let apiA: Api;
  let user: Awaited<ReturnType<typeof registerUser>>;
  let projectId: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const env = { REDIS_URL: inject('redisUrl'), MONGODB_URI: freshMongoUri('logout') };
    [a, b] = await Promise.all([startReplica('logout-a', env), startReplica('logout-b', env)]);
    apiA = client(a.url);
    user = await registerUser(apiA, 'Leaver');
    projectId = (await apiA.post('/api/projects', { name: 'Logout' }, user.token)).body.project.id;
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('with the refresh cookie alone (as the web app does): the access token is refused at once on both replicas, on REST, the handshake and SSE', async () => {
    const session = await login(apiA, user.user.email, user.password);
    await expectAccepted(a.url, session.token, projectId);
    await expectAccepted(b.url, session.token, projectId);
    const out = await apiA.call('POST', '/api/auth/logout', {
      headers: { cookie: session.cookie },
    });
    expect(out.status).toBe(204);
    await expectRefused(b.url, session.token, projectId);
    await expectRefused(a.url, session.token, projectId);
    // The refresh cookie is dead too; a new login works on both.
    const again = await apiA.call('POST', '/api/auth/refresh', {
      headers: { cookie: session.cookie },
    });
    expect(again.status).toBe(401);
    const fresh = await login(client(b.url), user.user.email, user.password);
    await expectAccepted(a.url, fresh.token, projectId);
    await expectAccepted(b.url, fresh.token, projectId);
  });

  it('with the bearer token alone: that token is refused at once on both replicas, and its session cannot be refreshed', async () => {
    const session = await login(apiA, user.user.email, user.password);
    const out = await client(b.url).call('POST', '/api/auth/logout', { token: session.token });
    expect(out.status).toBe(204);
    await expectRefused(a.url, session.token, projectId);
    await expectRefused(b.url, session.token, projectId);
    const refreshed = await apiA.call('POST', '/api/auth/refresh', {
      headers: { cookie: session.cookie },
    });
    expect(refreshed.status).toBe(401);
  });

  it('a refresh token used twice (stolen) ends the access tokens of its session too', async () => {
    const session = await login(apiA, user.user.email, user.password);
    const first = await apiA.call('POST', '/api/auth/refresh', {
      headers: { cookie: session.cookie },
    });
    expect(first.status).toBe(200);
    const fresh = first.body.token as string;
    await expectAccepted(b.url, fresh, projectId);
    const reused = await apiA.call('POST', '/api/auth/refresh', {
      headers: { cookie: session.cookie },
    });
    expect(reused.status).toBe(401);
    await expectRefused(b.url, fresh, projectId);
    await expectRefused(b.url, session.token, projectId);
  });

  it('another login session of the same user keeps working', async () => {
    const stays = await login(apiA, user.user.email, user.password);
    const leaves = await login(apiA, user.user.email, user.password);
    const out = await apiA.call('POST', '/api/auth/logout', {
      token: leaves.token,
      headers: { cookie: leaves.cookie },
    });
    expect(out.status).toBe(204);
    await expectRefused(b.url, leaves.token, projectId);
    await expectAccepted(b.url, stays.token, projectId);
  });

  it('the user’s connected sockets on both replicas and an open SSE stream are ended', async () => {
    const session = await login(apiA, user.user.email, user.password);
    const onA = socketFor(a.url, session.token);
    const onB = socketFor(b.url, session.token);
    sockets.push(onA, onB);
    await Promise.all([connected(onA), connected(onB)]);
    const reasons: string[] = [];
    onA.on('disconnect', (r) => reasons.push(`a:${r}`));
    onB.on('disconnect', (r) => reasons.push(`b:${r}`));
    const stream = await fetch(`${b.url}/api/projects/${projectId}/events`, {
      headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let streamEnded = false;
    void (async () => {
      try {
        for (;;) if ((await reader.read()).done) break;
      } catch {
        /* aborted: ended too */
      }
      streamEnded = true;
    })();

    const out = await apiA.call('POST', '/api/auth/logout', {
      headers: { cookie: session.cookie },
    });
    expect(out.status).toBe(204);
    try {
      await waitUntil(() => reasons.length === 2 && streamEnded, 5000, 'sockets and SSE to end');
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    expect(reasons.sort()).toEqual(['a:io server disconnect', 'b:io server disconnect']);
    // Reconnecting with the same token is refused.
    const h = await handshake(b.url, session.token);
    if (h.connected) h.socket.disconnect();
    expect(h.connected).toBe(false);
  });
});

describe('[C6] logout without Redis (one process, in-memory denylist)', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the access token is refused at once on REST, the handshake and SSE', async () => {
    const api = client(t.url);
    const u = await registerUser(api, 'Alone');
    const projectId = (await api.post('/api/projects', { name: 'Solo' }, u.token)).body.project.id;
    const session = await login(api, u.user.email, u.password);
    await expectAccepted(t.url, session.token, projectId);
    const out = await api.call('POST', '/api/auth/logout', { headers: { cookie: session.cookie } });
    expect(out.status).toBe(204);
    await expectRefused(t.url, session.token, projectId);
    // The registration's own session was not ended.
    await expectAccepted(t.url, u.token, projectId);
  });
});

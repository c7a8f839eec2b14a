/**
 * Who may hold a socket, and for how long: the handshake checks the access token, a token that
 * expires while connected ends the session, and a member removed from a project stops receiving
 * what happens in it. Real replica processes, real Redis and FerretDB, real WebSocket clients.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { TEST_JWT_SECRET, client, freshMongoUri, registerUser } from './helpers/api.js';
import { sentinel } from './helpers/sentinel.js';
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

const SIGN = {
  algorithm: 'HS256',
  issuer: 'collabflow',
  audience: 'collabflow-api',
} as const;

/** An access token signed like the server signs them, with the given lifetime. */
function tokenFor(userId: string, opts: { expiresIn?: number; exp?: number } = {}): string {
  if (opts.exp !== undefined) {
    return jwt.sign({ exp: opts.exp }, TEST_JWT_SECRET, { ...SIGN, subject: userId });
  }
  return jwt.sign({}, TEST_JWT_SECRET, {
    ...SIGN,
    subject: userId,
    expiresIn: opts.expiresIn ?? 900,
  });
}

describe('socket authentication and authorization', () => {
  let A: Replica;
  let B: Replica;
  const sockets: Socket[] = [];
  let owner: Awaited<ReturnType<typeof registerUser>>;
  let mate: Awaited<ReturnType<typeof registerUser>>;
  let projectId: string;
  let channelId: string;

  const track = (s: Socket) => {
    sockets.push(s);
    return s;
  };
  const open = async (r: Replica, token: string) => {
    const s = track(socketFor(r.url, token));
    await connected(s);
    return s;
  };

  /** Connects with the given handshake auth and returns the connect_error (fails if it connects). */
  async function refused(auth: Record<string, unknown> | undefined) {
    const s = track(
      connect(A.url, {
        ...(auth === undefined ? {} : { auth }),
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: 5000,
      }),
    );
    const outcome = await new Promise<{ connected: boolean; err?: Error & { data?: any } }>(
      (resolve) => {
        s.once('connect', () => resolve({ connected: true }));
        s.once('connect_error', (err) => resolve({ connected: false, err }));
      },
    );
    expect(outcome.connected).toBe(false);
    return outcome.err!;
  }

  beforeAll(async () => {
    const env = {
      MONGODB_URI: freshMongoUri('rt_auth'),
      REDIS_URL: inject('redisUrl'),
      // Every test file registers from 127.0.0.1, and the per-IP budget lives in the shared Redis.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
    };
    [A, B] = await Promise.all([startReplica('auth-a', env), startReplica('auth-b', env)]);
    const api = client(A.url);
    owner = await registerUser(api, 'Owner');
    mate = await registerUser(api, 'Mate');
    const p = await api.post('/api/projects', { name: 'Auth board' }, owner.token);
    projectId = p.body.project.id;
    const m = await api.post(
      `/api/projects/${projectId}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    expect(m.status).toBe(201);
    channelId = (await api.get(`/api/projects/${projectId}/channels`, owner.token)).body.channels[0]
      .id;
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('[C1] a handshake without a token is refused with unauthorized', async () => {
    for (const auth of [undefined, {}, { token: '' }, { token: 42 }, { token: null }]) {
      const err = await refused(auth);
      expect(err.data, JSON.stringify(auth)).toMatchObject({ code: 'unauthorized' });
      expect(typeof err.data.message).toBe('string');
    }
  });

  it('[C1] a bad token is refused with unauthorized', async () => {
    const uid = owner.user.id;
    const bad = [
      'not-a-jwt',
      `${owner.token}x`, // signature broken
      jwt.sign({}, 'another-secret-that-is-long-enough-for-hs256-000000', {
        ...SIGN,
        subject: uid,
        expiresIn: 60,
      }),
      jwt.sign({}, TEST_JWT_SECRET, { ...SIGN, audience: 'someone-else', subject: uid }),
      jwt.sign({}, TEST_JWT_SECRET, { ...SIGN, issuer: 'someone-else', subject: uid }),
      jwt.sign({}, TEST_JWT_SECRET, { ...SIGN, algorithm: 'HS512', subject: uid }),
      jwt.sign({}, TEST_JWT_SECRET, { ...SIGN, subject: 'not-an-object-id', expiresIn: 60 }),
      // alg "none": header and payload without a signature
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({
          sub: uid,
          iss: 'collabflow',
          aud: 'collabflow-api',
          exp: Math.floor(Date.now() / 1000) + 600,
        }),
      ).toString('base64url')}.`,
      // well signed, but for an account that does not exist
      tokenFor(randomBytes(12).toString('hex')),
    ];
    for (const token of bad) {
      const err = await refused({ token });
      expect(err.data, token).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('[C1] an expired token is refused with token_expired', async () => {
    const err = await refused({
      token: tokenFor(owner.user.id, { exp: Math.floor(Date.now() / 1000) - 30 }),
    });
    expect(err.data).toMatchObject({ code: 'token_expired' });
    // The same account with a valid token gets in.
    const ok = await open(A, tokenFor(owner.user.id));
    expect((await call(ok, 'join:project', projectId)).ok).toBe(true);
  });

  it('[C2] a token that expires while connected ends the session; a fresh token reconnects', async () => {
    const token = tokenFor(mate.user.id, { expiresIn: 2 });
    const exp = (jwt.decode(token) as { exp: number }).exp;
    // Reconnection on, as in the app: "does not come back by itself" below is then a property of
    // how the server ends the session, not of the test's client options.
    const s = track(socketFor(B.url, token, { reconnection: true }));
    const ending = collect(s, 'session:ending');
    const gone = new Promise<{ reason: string; at: number }>((resolve) =>
      s.once('disconnect', (reason) => resolve({ reason, at: Date.now() })),
    );
    await connected(s);
    const connectedAt = Date.now();
    expect((await call(s, 'join:project', projectId)).ok).toBe(true);

    const { reason, at } = await Promise.race([
      gone,
      sleep(4000).then(() => ({ reason: 'still connected after 4 s', at: Date.now() })),
    ]);
    expect(reason).toBe('io server disconnect');
    expect(ending).toEqual([{ reason: 'token_expired' }]);
    expect(at - connectedAt).toBeLessThan(3000);
    // Not early: the session lasted until the token's expiry (1 s resolution, 100 ms slack).
    expect(at).toBeGreaterThanOrEqual(exp * 1000 - 100);
    // The client does not come back by itself with the expired token. No waiting needed:
    // socket.io-client decides at the disconnect. A namespace disconnect from the server ('io
    // server disconnect') drops the socket's reconnection hooks and closes its manager, which
    // `active` reports false at once; a transport close (or any other reason) would leave it
    // active, and the manager would retry with the expired token.
    expect(s.active).toBe(false);
    expect(s.connected).toBe(false);

    const fresh = await open(B, tokenFor(mate.user.id));
    const join = await call(fresh, 'join:project', projectId);
    expect(join.ok).toBe(true);
    expect(join.data.users.map((u: { id: string }) => u.id)).toContain(mate.user.id);
  });

  it('[C5] a member removed over REST stops receiving the project (on another replica)', async () => {
    const api = client(A.url);
    const gone = await registerUser(api, 'Removed');
    const add = await api.post(
      `/api/projects/${projectId}/members`,
      { email: gone.user.email, role: 'member' },
      owner.token,
    );
    expect(add.status).toBe(201);
    // A second project they stay a member of: its events carry the sentinel below.
    const side = (await api.post('/api/projects', { name: 'Side' }, owner.token)).body.project
      .id as string;
    const addSide = await api.post(
      `/api/projects/${side}/members`,
      { email: gone.user.email, role: 'member' },
      owner.token,
    );
    expect(addSide.status).toBe(201);

    const ownerSocket = await open(A, owner.token);
    const goneSocket = await open(B, gone.token);
    for (const s of [ownerSocket, goneSocket]) {
      expect((await call(s, 'join:project', projectId)).ok).toBe(true);
      expect((await call(s, 'chat:join', channelId)).ok).toBe(true);
    }
    expect((await call(goneSocket, 'join:project', side)).ok).toBe(true);
    const seen: { event: string; payload: any }[] = [];
    goneSocket.onAny((event: string, payload: unknown) => seen.push({ event, payload }));

    // While a member: events of the project arrive.
    const t1 = await api.post(`/api/projects/${projectId}/tasks`, { title: 'seen' }, owner.token);
    expect(t1.status).toBe(201);
    await waitUntil(
      () => seen.some((e) => e.event === 'task:created' && e.payload.task.title === 'seen'),
      5000,
      'task:created while a member',
    );

    const leftForOwner = collect(ownerSocket, 'user:left');
    const del = await api.del(`/api/projects/${projectId}/members/${gone.user.id}`, owner.token);
    expect(del.status).toBe(204);
    await waitUntil(
      () => seen.some((e) => e.event === 'member:removed'),
      5000,
      'member:removed reaches the removed member',
    );
    expect(seen.find((e) => e.event === 'member:removed')!.payload).toMatchObject({
      projectId,
      userId: gone.user.id,
    });
    const cut = seen.length;

    // After removal: board changes, chat and typing of the project no longer reach them.
    const t2 = await api.post(`/api/projects/${projectId}/tasks`, { title: 'unseen' }, owner.token);
    expect(t2.status).toBe(201);
    const upd = await api.patch(
      `/api/tasks/${t2.body.task.id}`,
      { version: t2.body.task.version, title: 'unseen 2' },
      owner.token,
    );
    expect(upd.status).toBe(200);
    expect((await call(ownerSocket, 'chat:message', { channelId, content: 'secret' })).ok).toBe(
      true,
    );
    expect((await call(ownerSocket, 'chat:typing', { channelId, isTyping: true })).ok).toBe(true);
    // A control client on the same replica that is still a member does get them.
    const control = await open(B, mate.token);
    expect((await call(control, 'join:project', projectId)).ok).toBe(true);
    const controlSeen = collect(control, 'task:created');
    const t3 = await api.post(
      `/api/projects/${projectId}/tasks`,
      { title: 'control' },
      owner.token,
    );
    expect(t3.status).toBe(201);
    await waitUntil(() => controlSeen.length === 1, 5000, 'task:created on the control client');
    // The sentinel: an event of the side project, published by A after everything above (REST
    // and socket changes are broadcast before they are answered, typing before its ack), so it
    // crosses A's Redis publisher, B's subscriber and the removed member's own WebSocket after
    // them. Once it is in, anything of the project that reached them would be in too.
    await sentinel(
      () => api.post(`/api/projects/${side}/tasks`, { title: 'sentinel' }, owner.token),
      () => seen.some((e) => e.event === 'task:created' && e.payload.projectId === side),
      'task:created of the side project on the removed member',
    );
    expect(seen.slice(cut)).toEqual([
      {
        event: 'task:created',
        payload: expect.objectContaining({
          projectId: side,
          task: expect.objectContaining({ title: 'sentinel' }),
        }),
      },
    ]);

    // They are no longer online in the project, though their socket is still connected.
    await waitUntil(
      () => leftForOwner.some((l) => l.userId === gone.user.id),
      5000,
      'user:left for the removed member',
    );
    expect(goneSocket.connected).toBe(true);
    const roster = await call(ownerSocket, 'join:project', projectId);
    expect(roster.data.users.map((u: { id: string }) => u.id)).not.toContain(gone.user.id);

    // And they cannot come back in through the socket.
    expect(await call(goneSocket, 'join:project', projectId)).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(
      await call(goneSocket, 'task:create', { projectId, task: { title: 'sneak' } }),
    ).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await call(goneSocket, 'chat:typing', { channelId, isTyping: true })).toMatchObject({
      ok: false,
    });
  });

  it('[C5] a deleted project lets go of its sockets on every replica: no room, no chat, no presence', async () => {
    const api = client(A.url);
    const p = await api.post('/api/projects', { name: 'Doomed' }, owner.token);
    const doomed = p.body.project.id as string;
    const add = await api.post(
      `/api/projects/${doomed}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    expect(add.status).toBe(201);
    const doomedChannel = (await api.get(`/api/projects/${doomed}/channels`, owner.token)).body
      .channels[0].id as string;
    // A project that stays, with the same two members: its channel carries the sentinel below.
    const witness = (await api.post('/api/projects', { name: 'Witness' }, owner.token)).body.project
      .id as string;
    const addWitness = await api.post(
      `/api/projects/${witness}/members`,
      { email: mate.user.email, role: 'member' },
      owner.token,
    );
    expect(addWitness.status).toBe(201);
    const witnessChannel = (await api.get(`/api/projects/${witness}/channels`, owner.token)).body
      .channels[0].id as string;
    const onA = await open(A, owner.token);
    const onB = await open(B, mate.token);
    for (const s of [onA, onB]) {
      expect((await call(s, 'join:project', doomed)).ok).toBe(true);
      expect((await call(s, 'chat:join', doomedChannel)).ok).toBe(true);
      expect((await call(s, 'chat:join', witnessChannel)).ok).toBe(true);
    }
    const presenceKey = `collabflow:presence:project:${doomed}`;
    const redis = new Redis(inject('redisUrl'), { lazyConnect: true });
    await redis.connect();
    try {
      expect(await redis.zcard(presenceKey)).toBe(2);
      const typingOnA = collect(onA, 'chat:userTyping');
      const deleted = collect(onB, 'project:deleted');

      expect((await api.del(`/api/projects/${doomed}`, owner.token)).status).toBe(204);
      await waitUntil(() => deleted.length === 1, 5000, 'project:deleted on B');
      expect(deleted[0]).toMatchObject({ projectId: doomed });

      // Presence entries go at once, not when heartbeats stop (they never would: both sockets
      // are still connected).
      await waitUntil(async () => (await redis.zcard(presenceKey)) === 0, 5000, 'no presence');
      // The channel room is gone on B too: typing there is refused and reaches nobody.
      expect(
        await call(onB, 'chat:typing', { channelId: doomedChannel, isTyping: true }),
      ).toMatchObject({ ok: false, error: { code: 'not_found' } });
      // The sentinel: typing by the same socket in a channel both still share. Typing is
      // broadcast before its ack, so it takes the path the refused one would have taken (B's
      // Redis publisher, A's subscriber, onA's WebSocket) after it. Typing is volatile: a copy
      // the server drops is sent again, each after the refused one.
      const sentinelTyping = { channelId: witnessChannel, userId: mate.user.id, isTyping: true };
      await sentinel(
        async () =>
          expect(
            (await call(onB, 'chat:typing', { channelId: witnessChannel, isTyping: true })).ok,
          ).toBe(true),
        () => typingOnA.length > 0,
        'typing in the shared channel on A',
        { resendMs: 1000 },
      );
      expect(typingOnA.length).toBeGreaterThan(0);
      for (const t of typingOnA) expect(t).toMatchObject(sentinelTyping);
      expect(
        (await call(onB, 'chat:typing', { channelId: witnessChannel, isTyping: false })).ok,
      ).toBe(true);
      expect(await call(onB, 'join:project', doomed)).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
      expect(onA.connected && onB.connected).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

/**
 * [A4] What one user or one address can hold and send, across the cluster: at most
 * MAX_SOCKETS_PER_USER sockets and MAX_SSE_PER_USER event streams per user on all replicas
 * together, socket rate limits per user (more sockets do not multiply the budget), and
 * handshakes per client address (behind a trusted proxy, the forwarded address). Two real
 * replica processes, real Redis, real WebSocket clients and HTTP streams.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import { call, startReplica, waitUntil, type Replica } from './helpers/cluster.js';
import { openSse, type SseClient } from './helpers/sse.js';

type User = Awaited<ReturnType<typeof registerUser>>;

let addressCounter = 1;
/** A fresh client address each time (so the per-address budget is not what a test hits). */
const nextAddress = () => `198.51.100.${addressCounter++}`;

describe('[A4] per-user and per-address limits, cluster-wide', () => {
  let A: Replica;
  let B: Replica;
  const sockets: Socket[] = [];
  const streams: SseClient[] = [];

  /** Connects from `address` (X-Forwarded-For; replicas trust loopback proxies). */
  async function handshake(
    r: Replica,
    token: string | undefined,
    address = nextAddress(),
  ): Promise<{ socket: Socket; connected: boolean; data?: any }> {
    const socket = connect(r.url, {
      ...(token === undefined ? {} : { auth: { token } }),
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { 'x-forwarded-for': address },
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve({ socket, connected: true }));
      socket.once('connect_error', (err: Error & { data?: unknown }) =>
        resolve({ socket, connected: false, data: err.data }),
      );
    });
  }
  async function open(r: Replica, token: string): Promise<Socket> {
    const h = await handshake(r, token);
    expect(h.connected, JSON.stringify(h.data)).toBe(true);
    return h.socket;
  }
  async function stream(r: Replica, projectId: string, token: string) {
    const s = await openSse(`${r.url}/api/projects/${projectId}/events`, token);
    streams.push(s);
    return s;
  }

  beforeAll(async () => {
    const env = {
      MONGODB_URI: freshMongoUri('rt_limits'),
      REDIS_URL: inject('redisUrl'),
      MAX_SOCKETS_PER_USER: '3',
      MAX_SSE_PER_USER: '2',
      RATE_LIMIT_SOCKET_MUTATIONS: '4',
      RATE_LIMIT_SOCKET_HANDSHAKES: '5',
      RATE_LIMIT_API_POINTS: '100000',
    };
    [A, B] = await Promise.all([startReplica('limits-a', env), startReplica('limits-b', env)]);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const s of streams) s.close();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  async function projectOf(owner: User): Promise<string> {
    const p = await client(A.url).post('/api/projects', { name: 'Limits' }, owner.token);
    expect(p.status).toBe(201);
    return p.body.project.id as string;
  }

  it('[A4] MAX_SOCKETS_PER_USER counts a user’s sockets on every replica; the refusal says why', async () => {
    const api = client(A.url);
    const user = await registerUser(api, 'Many');
    const other = await registerUser(api, 'Other');
    const first = await open(A, user.token);
    await open(A, user.token);
    await open(B, user.token);
    for (const r of [B, A]) {
      const refused = await handshake(r, user.token);
      expect(refused.connected).toBe(false);
      expect(refused.data).toEqual({
        code: 'too_many_connections',
        message: expect.stringMatching(/3 real-time connections/),
        details: { kind: 'socket', limit: 3 },
      });
    }
    // Someone else is not affected.
    await open(B, other.token);
    // A closed socket gives its slot back, on whichever replica the next one connects.
    first.disconnect();
    await waitUntil(
      async () => {
        const h = await handshake(B, user.token);
        return h.connected;
      },
      10_000,
      'a socket once one was closed',
    );
  });

  it('[A4] MAX_SSE_PER_USER counts a user’s event streams on every replica (429 too_many_connections)', async () => {
    const owner = await registerUser(client(A.url), 'Streamer');
    const projectId = await projectOf(owner);
    const onA = await stream(A, projectId, owner.token);
    const onB = await stream(B, projectId, owner.token);
    expect([onA.res.status, onB.res.status]).toEqual([200, 200]);
    for (const r of [A, B]) {
      const third = await stream(r, projectId, owner.token);
      expect(third.res.status).toBe(429);
      expect(await third.res.json()).toEqual({
        error: {
          code: 'too_many_connections',
          message: expect.stringMatching(/2 event streams/),
          details: { kind: 'sse', limit: 2 },
        },
      });
    }
    onA.close();
    await waitUntil(
      async () => (await stream(B, projectId, owner.token)).res.status === 200,
      10_000,
      'a stream once one was closed',
    );
  });

  it('[A4] socket rate limits are per user: three sockets on two replicas share one budget', async () => {
    const owner = await registerUser(client(A.url), 'Writer');
    const projectId = await projectOf(owner);
    const mine = [
      await open(A, owner.token),
      await open(A, owner.token),
      await open(B, owner.token),
    ];
    const acks: Array<{ ok: boolean; error?: { code: string } }> = [];
    for (let i = 0; i < 9; i++) {
      const s = mine[i % 3]!;
      acks.push(await call(s, 'task:create', { projectId, task: { title: `t${i}` } }));
    }
    // RATE_LIMIT_SOCKET_MUTATIONS=4 per 10 s for the user, not 4 per socket (12).
    expect(acks.filter((a) => a.ok)).toHaveLength(4);
    expect(acks.filter((a) => !a.ok).map((a) => a.error?.code)).toEqual(
      Array(5).fill('rate_limited'),
    );
    const tasks = await client(A.url).get(`/api/projects/${projectId}/tasks`, owner.token);
    expect(tasks.body.tasks).toHaveLength(4);
  });

  it('[A4] handshakes are limited per client address (the forwarded one behind a trusted proxy)', async () => {
    const user = await registerUser(client(A.url), 'Knocker');
    const address = nextAddress();
    // Five handshakes from one address, refused or not (a bad token counts too)...
    for (let i = 0; i < 5; i++) {
      const h = await handshake(A, i % 2 === 0 ? 'not-a-token' : user.token, address);
      h.socket.disconnect();
    }
    // ... then that address is refused before its token is even looked at.
    const sixth = await handshake(A, user.token, address);
    expect(sixth.connected).toBe(false);
    expect(sixth.data).toMatchObject({ code: 'rate_limited' });
    // Another address behind the same proxy is not.
    const fresh = await handshake(A, user.token, nextAddress());
    expect(fresh.connected).toBe(true);
  });
});

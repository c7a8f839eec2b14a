/**
 * [P4] Join and disconnect are ordered per socket: a socket that disconnects while its
 * `join:project` awaits the database or Redis is not added to the room or to presence after its
 * disconnect handler ran (the heartbeat would keep that user online forever). A real replica
 * process, real Redis, real WebSocket clients.
 */
import { Redis } from 'ioredis';
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

describe('[P4] presence of a socket that disconnects during join:project', () => {
  let R: Replica;
  let redis: Redis;
  const sockets: Socket[] = [];

  const open = async (token: string) => {
    const s = socketFor(R.url, token);
    sockets.push(s);
    await connected(s);
    return s;
  };

  beforeAll(async () => {
    R = await startReplica('presence-order', {
      MONGODB_URI: freshMongoUri('presence_order'),
      REDIS_URL: inject('redisUrl'),
    });
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    redis?.disconnect();
    await R?.stop();
  });

  it('[P4] a join still in flight when the socket closes leaves no presence behind', async () => {
    const api = client(R.url);
    const owner = await registerUser(api, 'Owner');
    const leaky = await registerUser(api, 'Leaky');
    const p = await api.post('/api/projects', { name: 'Presence board' }, owner.token);
    const projectId = p.body.project.id as string;
    const add = await api.post(
      `/api/projects/${projectId}/members`,
      { email: leaky.user.email, role: 'member' },
      owner.token,
    );
    expect(add.status).toBe(201);
    const watcher = await open(owner.token);
    expect((await call(watcher, 'join:project', projectId)).ok).toBe(true);
    const key = `collabflow:presence:project:${projectId}`;
    const entriesOf = async (userId: string) =>
      (await redis.zrange(key, 0, -1)).filter((m) => m.startsWith(`${userId}|`));

    // Each socket sends join:project and closes at once: the close reaches the server while the
    // join handler awaits its reads.
    for (let i = 0; i < 20; i++) {
      const s = await open(leaky.token);
      s.emit('join:project', projectId, () => undefined);
      s.disconnect();
    }
    // Then one that joins for real and leaves: its disconnect is the user's last goodbye.
    const last = await open(leaky.token);
    const join = await call(last, 'join:project', projectId);
    expect(join.ok).toBe(true);
    expect(join.data.users.map((u: { id: string }) => u.id)).toContain(leaky.user.id);
    const left = collect(watcher, 'user:left');
    last.disconnect();

    // Without ordering, an entry added after its socket's disconnect stays, refreshed by every
    // heartbeat, and the user never leaves.
    await waitUntil(
      async () => (await entriesOf(leaky.user.id)).length === 0,
      15_000,
      'no presence entry of the user who closed every socket',
    );
    await waitUntil(
      () => left.some((l: { userId: string }) => l.userId === leaky.user.id),
      15_000,
      'user:left for the user who closed every socket',
    );
    const roster = await call(watcher, 'join:project', projectId);
    expect(roster.data.users.map((u: { id: string }) => u.id)).toEqual([owner.user.id]);
  });
});

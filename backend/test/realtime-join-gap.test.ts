/**
 * [E6] Nothing falls between `join:project` and the live stream: the socket is in the project
 * room before the handler reads the current seq, so every event after the `seq` of the ack
 * arrives live (and `missed` covers everything up to it). A real replica process, real Redis and
 * FerretDB, real WebSocket clients, a writer changing the board the whole time.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import {
  call,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';

describe('[E6] join:project while the board changes', () => {
  let R: Replica;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    R = await startReplica('join-gap', {
      MONGODB_URI: freshMongoUri('join_gap'),
      REDIS_URL: inject('redisUrl'),
      RATE_LIMIT_API_POINTS: '1000000',
      RATE_LIMIT_SOCKET_MUTATIONS: '1000000',
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await R?.stop();
  });

  it('[E6] the first live event after a join is always the one right after the ack’s seq', async () => {
    const api = client(R.url);
    const owner = await registerUser(api, 'Owner');
    const viewer = await registerUser(api, 'Viewer');
    const p = await api.post('/api/projects', { name: 'Busy board' }, owner.token);
    const projectId = p.body.project.id as string;
    const add = await api.post(
      `/api/projects/${projectId}/members`,
      { email: viewer.user.email, role: 'viewer' },
      owner.token,
    );
    expect(add.status).toBe(201);

    // One writer, one change at a time: events are published in seq order.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const t = await api.post(
          `/api/projects/${projectId}/tasks`,
          { title: `t${written}` },
          owner.token,
        );
        expect(t.status).toBe(201);
        written++;
      }
    })();

    // Joiners join, wait for the next live event after their ack's seq, leave, and again.
    const trials: Array<{ seq: number; first: number }> = [];
    const joiner = async () => {
      const s = socketFor(R.url, viewer.token);
      sockets.push(s);
      await connected(s);
      let seen: number[] = [];
      s.on('task:created', (e: { seq: number }) => seen.push(e.seq));
      for (let i = 0; i < 60; i++) {
        seen = [];
        const join = await call(s, 'join:project', projectId);
        expect(join.ok).toBe(true);
        const seq = join.data.seq as number;
        await waitUntil(() => seen.some((q) => q > seq), 10_000, 'a live event after the join');
        trials.push({ seq, first: Math.min(...seen.filter((q) => q > seq)) });
        expect((await call(s, 'leave:project', projectId)).ok).toBe(true);
      }
    };
    try {
      await Promise.all([joiner(), joiner(), joiner(), joiner()]);
    } finally {
      writing = false;
      await writer;
    }
    const gaps = trials.filter((t) => t.first !== t.seq + 1);
    console.log(
      `[measure] ${trials.length} joins while ${written} tasks were created: ${gaps.length} missed the event after their seq`,
    );
    expect(gaps).toEqual([]);
  }, 120_000);
});

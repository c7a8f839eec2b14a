/**
 * [C7] An SSE stream lasts only while its user may see the project: it ends, on every replica,
 * when the member is removed, when the project is deleted, and when the access token expires.
 * Two real replica processes, real Redis and FerretDB, real HTTP streams.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_JWT_SECRET, client, freshMongoUri, registerUser } from './helpers/api.js';
import { startReplica, waitUntil, type Replica } from './helpers/cluster.js';
import { dataOf, openSse, type SseClient } from './helpers/sse.js';

type User = Awaited<ReturnType<typeof registerUser>>;

function tokenFor(userId: string, expiresIn: number): string {
  return jwt.sign({}, TEST_JWT_SECRET, {
    algorithm: 'HS256',
    issuer: 'collabflow',
    audience: 'collabflow-api',
    subject: userId,
    expiresIn,
  });
}

describe('[C7] SSE streams end when access ends', () => {
  let A: Replica;
  let B: Replica;
  const streams: SseClient[] = [];

  async function stream(r: Replica, projectId: string, token: string): Promise<SseClient> {
    const s = await openSse(`${r.url}/api/projects/${projectId}/events`, token);
    streams.push(s);
    expect(s.res.status).toBe(200);
    await waitUntil(() => dataOf(s.frames, 'ready').length === 1, 5000, 'the ready frame');
    return s;
  }

  async function projectWith(owner: User, members: User[]): Promise<string> {
    const api = client(A.url);
    const p = await api.post('/api/projects', { name: 'Stream board' }, owner.token);
    const projectId = p.body.project.id as string;
    for (const m of members) {
      const r = await api.post(
        `/api/projects/${projectId}/members`,
        { email: m.user.email, role: 'member' },
        owner.token,
      );
      expect(r.status).toBe(201);
    }
    return projectId;
  }

  beforeAll(async () => {
    const env = { MONGODB_URI: freshMongoUri('sse_access'), REDIS_URL: inject('redisUrl') };
    [A, B] = await Promise.all([startReplica('sse-a', env), startReplica('sse-b', env)]);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('[C7] a member removed on A: their stream on B ends (access_revoked), the others go on', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const gone = await registerUser(api, 'Gone');
    const stay = await registerUser(api, 'Stay');
    const projectId = await projectWith(owner, [gone, stay]);
    const goneStream = await stream(B, projectId, gone.token);
    const stayStream = await stream(B, projectId, stay.token);

    const del = await api.del(`/api/projects/${projectId}/members/${gone.user.id}`, owner.token);
    expect(del.status).toBe(204);
    const removedAt = Date.now();
    await goneStream.ended;
    console.log(
      `[measure] SSE stream of a removed member ended on the other replica after ${Date.now() - removedAt} ms`,
    );
    expect(dataOf(goneStream.frames, 'member:removed')).toHaveLength(1);
    expect(dataOf(goneStream.frames, 'end')).toEqual([{ projectId, reason: 'access_revoked' }]);
    expect(goneStream.frames[goneStream.frames.length - 1]?.event).toBe('end');

    // The others still receive the project (the sentinel: a task created after the removal).
    const t = await api.post(`/api/projects/${projectId}/tasks`, { title: 'after' }, owner.token);
    expect(t.status).toBe(201);
    await waitUntil(
      () =>
        dataOf<{ data: { task: { id: string } } }>(stayStream.frames, 'task:created').some(
          (e) => e.data.task.id === t.body.task.id,
        ),
      5000,
      'the sentinel task on the remaining member stream',
    );
    expect(stayStream.isEnded()).toBe(false);
    expect(dataOf(goneStream.frames, 'task:created')).toEqual([]);

    // Coming back is refused on both replicas.
    for (const r of [A, B]) {
      const again = await openSse(`${r.url}/api/projects/${projectId}/events`, gone.token);
      streams.push(again);
      expect(again.res.status).toBe(404);
    }
  });

  it('[C7] a project deleted on A ends every stream of it on A and on B (project_deleted)', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const mate = await registerUser(api, 'Mate');
    const projectId = await projectWith(owner, [mate]);
    const onA = await stream(A, projectId, owner.token);
    const onB = await stream(B, projectId, mate.token);

    expect((await api.del(`/api/projects/${projectId}`, owner.token)).status).toBe(204);
    const deletedAt = Date.now();
    await Promise.all([onA.ended, onB.ended]);
    console.log(
      `[measure] SSE streams of a deleted project ended after ${Date.now() - deletedAt} ms`,
    );
    for (const s of [onA, onB]) {
      expect(dataOf(s.frames, 'project:deleted')).toHaveLength(1);
      expect(dataOf(s.frames, 'end')).toEqual([{ projectId, reason: 'project_deleted' }]);
    }
  });

  it('[C7] a stream whose access token expires ends with token_expired; a fresh token reconnects', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const projectId = await projectWith(owner, []);
    const token = tokenFor(owner.user.id, 2);
    const exp = (jwt.decode(token) as { exp: number }).exp;
    const s = await stream(B, projectId, token);
    await s.ended;
    const endedAt = Date.now();
    expect(dataOf(s.frames, 'end')).toEqual([{ projectId, reason: 'token_expired' }]);
    // Not early: the stream lasted until the token's expiry (1 s resolution, 100 ms slack).
    expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 100);

    const expired = await openSse(`${B.url}/api/projects/${projectId}/events`, token);
    streams.push(expired);
    expect(expired.res.status).toBe(401);
    const fresh = await stream(B, projectId, tokenFor(owner.user.id, 600));
    expect(fresh.isEnded()).toBe(false);
  });
});

/**
 * Faults of the real-time layer with real replica processes, a real Redis and FerretDB:
 * a replica killed with SIGKILL, a replica stopped gracefully, Redis going away and coming back
 * on the same port, and a replica started while Redis is unreachable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { freePort, startRedis, type ManagedService } from '../../scripts/lib/services.js';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import {
  call,
  collect,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type LogLine,
  type Replica,
} from './helpers/cluster.js';

type User = Awaited<ReturnType<typeof registerUser>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readyz(r: Replica): Promise<{ status: number; body: any }> {
  const res = await fetch(`${r.url}/readyz`);
  return { status: res.status, body: await res.json() };
}

async function healthz(r: Replica): Promise<number> {
  return (await fetch(`${r.url}/healthz`)).status;
}

/** Polls /readyz until `ok` holds; returns the last answer. */
async function pollReadyz(
  r: Replica,
  ok: (a: { status: number; body: any }) => boolean,
  timeoutMs: number,
) {
  let last: { status: number; body: any } | undefined;
  await waitUntil(
    async () => {
      last = await readyz(r);
      return ok(last);
    },
    timeoutMs,
    `readyz of ${r.name}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last answer ${JSON.stringify(last)}`);
  });
  return last!;
}

/** Log lines about Redis, without the one start-up line that names the adapter. */
function redisLines(r: Replica): LogLine[] {
  return r.logs.filter((l) => {
    const msg = typeof l.msg === 'string' ? l.msg : '';
    if (msg.startsWith('Socket.IO with the Redis adapter')) return false;
    return l.component === 'redis' || /redis/i.test(msg);
  });
}

function linesContaining(r: Replica, text: string): LogLine[] {
  return r.logs.filter((l) => JSON.stringify(l).includes(text));
}

interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads a server-sent event stream into `frames` until `close()`. */
async function readSse(url: string, token: string, lastEventId: number) {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, 'Last-Event-ID': String(lastEventId) },
    signal: abort.signal,
  });
  const frames: SseFrame[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const frame: SseFrame = {};
        for (const line of buf.slice(0, i).split('\n')) {
          const m = /^(id|event|data): ?(.*)$/.exec(line);
          if (m) frame[m[1] as keyof SseFrame] = m[2];
        }
        buf = buf.slice(i + 2);
        if (frame.id !== undefined || frame.event !== undefined) frames.push(frame);
      }
    }
  })();
  return { status: res.status, frames, close: () => abort.abort() };
}

/**
 * The stream's promise: every event frame carries the seq right after the previous frame or the
 * seq named by the `resync` before it (the client reloads then); never a silent gap.
 */
function silentGaps(frames: SseFrame[], from: number): string[] {
  const gaps: string[] = [];
  let last = from;
  for (const f of frames) {
    if (f.event === 'resync') last = (JSON.parse(f.data!) as { seq: number }).seq;
    else if (f.id !== undefined) {
      if (Number(f.id) !== last + 1) gaps.push(`${last} → ${f.id}`);
      last = Number(f.id);
    }
  }
  return gaps;
}

/** A project owned by `owner` with `others` as members, created over REST. */
async function projectWith(url: string, owner: User, others: User[]): Promise<string> {
  const api = client(url);
  const p = await api.post('/api/projects', { name: 'Faults board' }, owner.token);
  expect(p.status).toBe(201);
  for (const u of others) {
    const m = await api.post(
      `/api/projects/${p.body.project.id}/members`,
      { email: u.user.email, role: 'member' },
      owner.token,
    );
    expect(m.status).toBe(201);
  }
  return p.body.project.id;
}

function socketKit() {
  const sockets: Socket[] = [];
  return {
    sockets,
    async open(r: Replica, token: string): Promise<Socket> {
      const s = socketFor(r.url, token);
      sockets.push(s);
      await connected(s);
      return s;
    },
    closeAll() {
      for (const s of sockets) s.disconnect();
    },
  };
}

describe('a replica killed with SIGKILL', () => {
  let A: Replica;
  let B: Replica;
  const kit = socketKit();

  beforeAll(async () => {
    const env = {
      MONGODB_URI: freshMongoUri('faults_kill'),
      REDIS_URL: inject('redisUrl'),
      // Every test file registers from 127.0.0.1, and the per-IP budget lives in the shared Redis.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      // PRESENCE_TTL and PRESENCE_HEARTBEAT at their defaults (15 s, 5 s): the spec's 30 s is
      // about what a deployment gets without tuning.
    };
    [A, B] = await Promise.all([startReplica('kill-a', env), startReplica('kill-b', env)]);
  });
  afterAll(async () => {
    kit.closeAll();
    await Promise.all([A?.stop(), B?.kill9()]);
  });

  it('its users leave the project cluster-wide within 30 s, with the default presence TTL', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Watcher');
    const crashUser = await registerUser(api, 'OnB');
    const projectId = await projectWith(A.url, owner, [crashUser]);

    const watcher = await kit.open(A, owner.token);
    expect((await call(watcher, 'join:project', projectId)).ok).toBe(true);
    const joined = collect(watcher, 'user:joined');
    const left = collect(watcher, 'user:left');

    const onB = await kit.open(B, crashUser.token);
    const join = await call(onB, 'join:project', projectId);
    expect(join.ok).toBe(true);
    await waitUntil(
      () => joined.some((j) => j.userId === crashUser.user.id),
      5000,
      'user:joined on A',
    );
    const before = await call(watcher, 'join:project', projectId);
    expect(before.data.users.map((u: { id: string }) => u.id)).toContain(crashUser.user.id);

    await B.kill9();
    expect(B.exitCode()).toBeNull(); // killed by a signal, not exited
    const killedAt = Date.now();
    await waitUntil(
      () => left.some((l) => l.userId === crashUser.user.id),
      30_000,
      'user:left on A after kill -9',
    );
    const latency = Date.now() - killedAt;
    console.log(
      `[measure] user:left after kill -9 of replica B: ${latency} ms (PRESENCE_TTL 15 s, heartbeat 5 s)`,
    );
    expect(latency).toBeLessThan(30_000);
    expect(left.filter((l) => l.userId === crashUser.user.id)).toHaveLength(1);
    expect(left.find((l) => l.userId === crashUser.user.id)).toMatchObject({ projectId });

    const after = await call(watcher, 'join:project', projectId);
    expect(after.ok).toBe(true);
    const ids = after.data.users.map((u: { id: string }) => u.id);
    expect(ids).not.toContain(crashUser.user.id);
    expect(ids).toContain(owner.user.id);
    expect(A.exitCode()).toBeNull();
  }, 60_000);
});

describe('a replica stopped with SIGTERM', () => {
  let A: Replica;
  let B: Replica;
  const kit = socketKit();

  beforeAll(async () => {
    // A long TTL: only the graceful goodbye can explain a fast user:left.
    const env = {
      MONGODB_URI: freshMongoUri('faults_term'),
      REDIS_URL: inject('redisUrl'),
      // Every test file registers from 127.0.0.1, and the per-IP budget lives in the shared Redis.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      PRESENCE_TTL: '30s',
      PRESENCE_HEARTBEAT: '5s',
    };
    [A, B] = await Promise.all([startReplica('term-a', env), startReplica('term-b', env)]);
  });
  afterAll(async () => {
    kit.closeAll();
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it('says goodbye: user:left on the other replica at once, session:ending, exit code 0', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Watcher');
    const leaving = await registerUser(api, 'OnB');
    const projectId = await projectWith(A.url, owner, [leaving]);

    const watcher = await kit.open(A, owner.token);
    expect((await call(watcher, 'join:project', projectId)).ok).toBe(true);
    const joined = collect(watcher, 'user:joined');
    const left = collect(watcher, 'user:left');

    const onB = await kit.open(B, leaving.token);
    const ending = collect(onB, 'session:ending');
    const disconnected = new Promise<string>((resolve) => onB.once('disconnect', resolve));
    expect((await call(onB, 'join:project', projectId)).ok).toBe(true);
    await waitUntil(
      () => joined.some((j) => j.userId === leaving.user.id),
      5000,
      'user:joined on A',
    );

    const stoppedAt = Date.now();
    const exit = B.stop().then((r) => ({ ...r, ms: Date.now() - stoppedAt }));
    await waitUntil(
      () => left.some((l) => l.userId === leaving.user.id),
      10_000,
      'user:left on A after SIGTERM',
    );
    const latency = Date.now() - stoppedAt;
    console.log(
      `[measure] user:left after SIGTERM of replica B: ${latency} ms (PRESENCE_TTL 30 s)`,
    );
    expect(latency).toBeLessThan(5000);

    const reason = await disconnected;
    expect(ending).toEqual([{ reason: 'server_shutdown' }]);
    // The shutdown closes the transport (unlike a token expiry, which is an 'io server
    // disconnect'), so a client with reconnection on comes back by itself, to another replica.
    expect(reason).toBe('transport close');

    const { code, signal, ms } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(10_000);

    const after = await call(watcher, 'join:project', projectId);
    expect(after.data.users.map((u: { id: string }) => u.id)).not.toContain(leaving.user.id);
    expect(left.filter((l) => l.userId === leaving.user.id)).toHaveLength(1);
    expect(A.exitCode()).toBeNull();
  }, 30_000);
});

describe('Redis goes away for 10 s and comes back on the same port', () => {
  let dir: string;
  let redis: ManagedService | undefined;
  let A: Replica;
  let B: Replica;
  const kit = socketKit();
  const streams: { close(): void }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collabflow-redis-outage-'));
    redis = await startRedis({ dataDir: dir });
    const env = { MONGODB_URI: freshMongoUri('faults_redis'), REDIS_URL: redis.url };
    [A, B] = await Promise.all([startReplica('outage-a', env), startReplica('outage-b', env)]);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    kit.closeAll();
    await Promise.all([A?.stop(), B?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[F1] changes are refused at once with unavailable (nothing stored), reads and sockets go on, readyz says degraded, nobody exits; [F2] writes and cross-replica delivery resume', async () => {
    const api = client(A.url);
    const owner = await registerUser(api, 'Owner');
    const mate = await registerUser(api, 'Mate');
    const far = await registerUser(api, 'Far');
    const projectId = await projectWith(A.url, owner, [mate, far]);

    const a1 = await kit.open(A, owner.token);
    const a2 = await kit.open(A, mate.token);
    const b1 = await kit.open(B, far.token);
    for (const s of [a1, a2, b1]) expect((await call(s, 'join:project', projectId)).ok).toBe(true);
    const onA2 = collect(a2, 'task:created');
    const onB1 = collect(b1, 'task:created');
    const titlesOf = (seen: any[]) => seen.map((e) => e.task.title as string);

    // Healthy first: A → B works, readyz says ok.
    expect((await call(a1, 'task:create', { projectId, task: { title: 'before' } })).ok).toBe(true);
    await waitUntil(() => titlesOf(onB1).includes('before'), 5000, 'cross-replica before');
    for (const r of [A, B]) {
      expect(await readyz(r)).toEqual({
        status: 200,
        body: { status: 'ok', mongo: 'up', redis: 'up' },
      });
    }

    // An SSE stream on A, from the current seq: during the outage it cannot get B's events.
    const seqBefore = (await api.get(`/api/projects/${projectId}`, owner.token)).body.project.seq;
    const sse = await readSse(`${A.url}/api/projects/${projectId}/events`, owner.token, seqBefore);
    streams.push(sse);
    expect(sse.status).toBe(200);

    const port = redis!.port;
    await redis!.stop();
    const downAt = Date.now();
    for (const r of [A, B]) {
      const d = await pollReadyz(r, (a) => a.body.redis === 'down', 5000);
      expect(d).toEqual({ status: 200, body: { status: 'degraded', mongo: 'up', redis: 'down' } });
    }

    // Ten seconds without Redis: the project's sequencer is away ([W1]), so every change is
    // refused at once with `unavailable` and stores nothing; reads and connections go on.
    const tasksBefore = (await api.get(`/api/projects/${projectId}/tasks`, owner.token)).body.tasks;
    let round = 0;
    while (Date.now() - downAt < 10_000 && round < 20) {
      round++;
      const ack = await call(a1, 'task:create', { projectId, task: { title: `outage ${round}` } });
      expect(ack).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      const rest = await api.post(
        `/api/projects/${projectId}/tasks`,
        { title: `outage rest ${round}` },
        owner.token,
      );
      expect(rest.status).toBe(503);
      expect(rest.body.error.code).toBe('unavailable');
      expect((await call(b1, 'task:create', { projectId, task: { title: 'on B' } })).ok).toBe(
        false,
      );
      const read = await client(B.url).get(`/api/projects/${projectId}/tasks`, far.token);
      expect(read.status).toBe(200);
      expect(read.body.tasks).toEqual(tasksBefore);
      for (const s of [a1, a2, b1]) expect(s.connected).toBe(true);
      for (const r of [A, B]) {
        const a = await readyz(r);
        expect(a.status).toBe(200);
        expect(a.body.redis).toBe('down');
        expect(r.exitCode()).toBeNull();
      }
      await sleep(1000);
    }
    expect(round).toBeGreaterThanOrEqual(3);
    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    expect(A.exitCode()).toBeNull();
    expect(B.exitCode()).toBeNull();
    expect(titlesOf(onA2).filter((t) => t.startsWith('outage'))).toEqual([]);

    redis = await startRedis({ dataDir: dir, port });
    const upAt = Date.now();
    let n = 0;
    let resumedMs = -1;
    while (Date.now() - upAt < 10_000) {
      n++;
      void call(a1, 'task:create', { projectId, task: { title: `after ${n}` } }).catch(
        () => undefined,
      );
      await sleep(200);
      if (titlesOf(onB1).some((t) => t.startsWith('after '))) {
        resumedMs = Date.now() - upAt;
        break;
      }
    }
    console.log(`[measure] cross-replica delivery resumed ${resumedMs} ms after Redis restarted`);
    expect(resumedMs).toBeGreaterThanOrEqual(0);
    expect(resumedMs).toBeLessThan(5000);

    // A → B is back, but each Redis client reconnects on its own back-off (up to 2 s apart), so
    // A's subscriber may still be away: an event B publishes meanwhile never reaches A live (A
    // notices the gap only at its next event). Wait until every client of both replicas is back.
    // (With the slower SQLite handler the writes above took long enough to hide this.)
    for (const r of [A, B]) await pollReadyz(r, (a) => a.body.redis === 'up', 5000);

    // The SSE stream never skipped silently, and carries B's events again.
    const fromB = await client(B.url).post(
      `/api/projects/${projectId}/tasks`,
      { title: 'from B after' },
      far.token,
    );
    expect(fromB.status).toBe(201);
    await waitUntil(
      () => sse.frames.some((f) => f.data?.includes(fromB.body.task.id)),
      5000,
      'SSE on A carries an event made on B after the outage',
    );
    expect(silentGaps(sse.frames, seqBefore)).toEqual([]);
    sse.close();

    for (const r of [A, B]) {
      const up = await pollReadyz(r, (a) => a.body.redis === 'up', 5000);
      expect(up).toEqual({ status: 200, body: { status: 'ok', mongo: 'up', redis: 'up' } });
      const lines = redisLines(r);
      const refused = linesContaining(r, 'ECONNREFUSED');
      console.log(
        `[measure] ${r.name}: ${lines.length} Redis log lines, ${refused.length} with ECONNREFUSED: ` +
          JSON.stringify(lines.map((l) => l.msg)),
      );
      expect(lines.length).toBeGreaterThan(0); // the outage was noticed and logged
      expect(lines.length).toBeLessThan(5);
      expect(refused.length).toBeLessThan(5);
      expect(linesContaining(r, 'unhandled promise rejection')).toEqual([]);
      expect(r.exitCode()).toBeNull();
    }
  }, 60_000);
});

describe('a replica started while Redis is unreachable', () => {
  let R: Replica;
  const kit = socketKit();

  beforeAll(async () => {
    const deadPort = await freePort(); // nothing listens here
    R = await startReplica('no-redis', {
      MONGODB_URI: freshMongoUri('faults_noredis'),
      REDIS_URL: `redis://127.0.0.1:${deadPort}`,
    });
  });
  afterAll(async () => {
    kit.closeAll();
    await R?.stop();
  });

  it('[F1] serves HTTP, reads, joins and sockets, refuses changes with unavailable, reports redis down, and does not spam the log', async () => {
    const startedAt = Date.now();
    expect(await healthz(R)).toBe(200);
    const ready = await pollReadyz(R, (a) => a.body.redis === 'down', 5000);
    expect(ready).toEqual({
      status: 200,
      body: { status: 'degraded', mongo: 'up', redis: 'down' },
    });

    const api = client(R.url);
    const owner = await registerUser(api, 'Alone');
    const p = await api.post('/api/projects', { name: 'Faults board' }, owner.token);
    expect(p.status).toBe(201);
    const projectId = p.body.project.id as string;
    const s1 = await kit.open(R, owner.token);
    // Joining works (the seq comes from the project's checkpoint, never newer than the truth);
    // changes need the sequencer ([F1]): refused at once, with a reason, and nothing is stored.
    const join = await call(s1, 'join:project', projectId);
    expect(join.ok).toBe(true);
    expect(join.data.users.map((u: { id: string }) => u.id)).toContain(owner.user.id);
    const ack = await call(s1, 'task:create', { projectId, task: { title: 'no redis' } });
    expect(ack).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(ack.error.message).toMatch(/Redis/);
    expect(s1.connected).toBe(true);
    const list = await api.get(`/api/projects/${projectId}/tasks`, owner.token);
    expect(list).toMatchObject({ status: 200, body: { tasks: [] } });

    await sleep(Math.max(0, 5000 - (Date.now() - startedAt)));
    expect(R.exitCode()).toBeNull();
    expect(await healthz(R)).toBe(200);
    const lines = redisLines(R);
    console.log(
      `[measure] no-redis replica: ${lines.length} Redis log lines: ${JSON.stringify(lines.map((l) => l.msg))}`,
    );
    expect(lines.length).toBeGreaterThan(0); // it says once that Redis is down
    expect(lines.length).toBeLessThan(5);
    expect(linesContaining(R, 'ECONNREFUSED').length).toBeLessThan(5);
    expect(linesContaining(R, 'unhandled promise rejection')).toEqual([]);
  }, 30_000);
});

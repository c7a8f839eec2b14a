/**
 * A fleet of Socket.IO clients in its own process, driven over IPC by `bench/suite.ts` (forked
 * with `serialization: 'advanced'`), so the load generators' CPU is theirs and is reported apart
 * from the servers'. Every command answers `{ id, ok, cpuMs, ...result }`; `cpuMs` is this
 * process's user + system CPU since it started. While a long command runs it posts
 * `{ progress }` once a second.
 *
 * Latency is measured across processes on the machine's clock: a send carries
 * `clientId = "b:<sender replica>:<n>:<performance.timeOrigin + performance.now()>"` and the
 * receiving process subtracts that from its own reading of the same clock.
 */
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';

export type SendKind = 'update' | 'move' | 'chat';
export interface ClientSpec {
  url: string;
  token: string;
  replica: number;
}
interface Member {
  s: Socket;
  replica: number;
}

const STATUSES = ['todo', 'in-progress', 'review', 'done'] as const;
const now = () => performance.timeOrigin + performance.now();
const members: Member[] = [];
let same: number[] = [];
let cross: number[] = [];
let counts = new Map<string, number>();
let progress = 0;
let disconnects = 0;

function receiver(replica: number) {
  return (p: { clientId?: unknown } | undefined) => {
    const t = now();
    const id = p?.clientId;
    if (typeof id !== 'string' || !id.startsWith('b:')) return;
    const [, rep, , at] = id.split(':');
    (Number(rep) === replica ? same : cross).push(t - Number(at));
    counts.set(id, (counts.get(id) ?? 0) + 1);
  };
}

async function ack(
  s: Socket,
  event: string,
  payload: unknown,
  timeoutMs: number,
): Promise<{ ok: boolean; code?: string }> {
  try {
    const a = (await s.timeout(timeoutMs).emitWithAck(event, payload)) as {
      ok: boolean;
      error?: { code?: string };
    };
    return a?.ok ? { ok: true } : { ok: false, code: a?.error?.code ?? 'no_code' };
  } catch {
    return { ok: false, code: 'unanswered' };
  }
}

async function openOne(spec: ClientSpec, projectId: string, listen: boolean, timeoutMs: number) {
  const s = io(spec.url, {
    auth: { token: spec.token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  if (listen) {
    const r = receiver(spec.replica);
    s.on('task:updated', r);
    s.on('task:moved', r);
    s.on('chat:newMessage', r);
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timeout')), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    s.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  const joined = await ack(s, 'join:project', { projectId }, timeoutMs);
  if (!joined.ok) {
    s.disconnect();
    throw new Error(`join:project ${joined.code}`);
  }
  s.on('disconnect', () => disconnects++);
  members.push({ s, replica: spec.replica });
}

async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        await fn(items[i] as T, i);
      }
    }),
  );
}

interface SendOpts {
  kind: SendKind;
  projectId: string;
  channelId?: string;
  taskIds: string[];
  ackTimeoutMs: number;
}

function build(o: SendOpts, n: number, slot: number, replica: number) {
  const clientId = `b:${replica}:${n}:${now().toFixed(3)}`;
  const taskId = o.taskIds[slot % o.taskIds.length];
  if (o.kind === 'chat')
    return ['chat:message', { channelId: o.channelId, content: `bench ${n}`, clientId }] as const;
  if (o.kind === 'move')
    return [
      'task:move',
      { projectId: o.projectId, taskId, toStatus: STATUSES[n % 4], newIndex: 0, clientId },
    ] as const;
  return [
    'task:update',
    { projectId: o.projectId, taskId, updates: { title: `bench ${n}` }, clientId },
  ] as const;
}

class Acks {
  ok = 0;
  errors: Record<string, number> = {};
  ms: number[] = [];
  okIds: string[] = [];
  note(a: { ok: boolean; code?: string }, ms: number, id: string) {
    if (a.ok) {
      this.ok++;
      this.ms.push(ms);
      this.okIds.push(id);
    } else this.errors[a.code ?? 'no_code'] = (this.errors[a.code ?? 'no_code'] ?? 0) + 1;
    progress++;
  }
}

async function sendOne(acks: Acks, o: SendOpts, n: number, m: Member, slot: number) {
  const [event, payload] = build(o, n, slot, m.replica);
  const t = performance.now();
  const a = await ack(m.s, event, payload, o.ackTimeoutMs);
  acks.note(a, performance.now() - t, payload.clientId);
}

/** Open loop: `rate` sends per second for `durationMs`, round robin over this fleet's sockets. */
async function openLoop(o: SendOpts & { rate: number; durationMs: number }) {
  const acks = new Acks();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round((o.rate * o.durationMs) / 1000);
  let n = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * o.rate) / 1000) + 1);
      for (; n < due; n++) {
        const slot = n % members.length;
        pending.push(sendOne(acks, o, n, members[slot]!, slot));
      }
      if (n >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  await Promise.all(pending);
  return { sent: total, sendSeconds: (performance.now() - start) / 1000, acks };
}

/** Closed loop: the first `workers` sockets each keep one send in flight for `durationMs`. */
async function closedLoop(o: SendOpts & { workers: number; durationMs: number }) {
  const acks = new Acks();
  const end = performance.now() + o.durationMs;
  let n = 0;
  const start = performance.now();
  await Promise.all(
    members.slice(0, o.workers).map(async (m, w) => {
      while (performance.now() < end) await sendOne(acks, o, n++, m, w);
    }),
  );
  return { sent: n, sendSeconds: (performance.now() - start) / 1000, acks };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const ticker = setInterval(() => process.send?.({ progress }), 1000);
ticker.unref();

process.on('message', (msg: { id: number; cmd: string; [k: string]: any }) => {
  const run = async (): Promise<Record<string, unknown>> => {
    progress = 0;
    switch (msg.cmd) {
      case 'open': {
        const failures: Record<string, number> = {};
        const t = performance.now();
        // Past the deadline no new connection is started (the rest count as `notTried`).
        const deadline = t + ((msg.deadlineMs as number | undefined) ?? Number.POSITIVE_INFINITY);
        let notTried = 0;
        await pool(msg.clients as ClientSpec[], msg.concurrency as number, async (spec) => {
          if (performance.now() > deadline) {
            notTried++;
            return;
          }
          try {
            await openOne(spec, msg.projectId, msg.listen, msg.timeoutMs);
          } catch (err) {
            const k = err instanceof Error ? err.message : String(err);
            failures[k] = (failures[k] ?? 0) + 1;
          }
          progress++;
        });
        return { opened: members.length, notTried, failures, ms: performance.now() - t };
      }
      case 'chatJoin': {
        let failed = 0;
        let notTried = 0;
        const deadline = performance.now() + ((msg.deadlineMs as number | undefined) ?? 1e9);
        await pool(members, 20, async (m) => {
          if (performance.now() > deadline) {
            notTried++;
            return;
          }
          if (!(await ack(m.s, 'chat:join', msg.channelId, msg.timeoutMs)).ok) failed++;
          progress++;
        });
        return { failed, notTried };
      }
      case 'openLoop':
      case 'closedLoop': {
        const r =
          msg.cmd === 'openLoop' ? await openLoop(msg as any) : await closedLoop(msg as any);
        return {
          sent: r.sent,
          sendSeconds: r.sendSeconds,
          okCount: r.acks.ok,
          errors: r.acks.errors,
          ackMs: Float64Array.from(r.acks.ms),
          okIds: r.acks.okIds,
        };
      }
      case 'collect': {
        const out = {
          same: Float64Array.from(same),
          cross: Float64Array.from(cross),
          counts: Object.fromEntries(counts),
          disconnects,
        };
        same = [];
        cross = [];
        counts = new Map();
        return out;
      }
      case 'close': {
        for (const m of members.splice(0)) m.s.disconnect();
        return {};
      }
      default:
        throw new Error(`unknown command ${msg.cmd}`);
    }
  };
  run().then(
    (r) => process.send?.({ ...r, id: msg.id, ok: true, cpuMs: cpuMs() }),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, cpuMs: cpuMs(), error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));

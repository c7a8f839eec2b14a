/**
 * The benchmark's clients: real socket.io-client sockets over real WebSockets, all in this process,
 * client i connected to replica i % 2. Every broadcast a client receives is timed here, against
 * the send time recorded (in this same process, on the same monotonic clock) by the sender.
 */
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';

export interface BenchClient {
  readonly index: number;
  /** 0 or 1: which replica this socket is connected to. */
  readonly replica: number;
  readonly socket: Socket;
}

export interface Ack {
  ok: boolean;
  data?: any;
  error?: { code: string; message: string };
}

/** Emits with an acknowledgement; a timeout or transport failure becomes `{ ok: false }`. */
export async function call(
  socket: Socket,
  event: string,
  payload: unknown,
  timeoutMs: number,
): Promise<Ack> {
  try {
    return (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Ack;
  } catch (err) {
    return {
      ok: false,
      error: { code: 'ack_timeout', message: err instanceof Error ? err.message : String(err) },
    };
  }
}

/** What happened to the sends of one scenario, broadcast by broadcast, receiver by receiver. */
export class DeliveryTracker {
  private readonly sent = new Map<
    string,
    { at: number; sender: number; senderReplica: number; got: Uint8Array; times: Float64Array }
  >();
  /** Send → receipt, receivers on the sender's replica (the sender's own echo excluded). */
  readonly sameReplica: number[] = [];
  /** Send → receipt, receivers on the other replica (through the Redis adapter). */
  readonly crossReplica: number[] = [];
  /** Send → receipt of the sender's own copy of the broadcast. */
  readonly echo: number[] = [];
  delivered = 0;
  duplicates = 0;
  /** performance.now() of the latest first-time receipt (0 before any). */
  lastReceiptAt = 0;
  /** Receipts carrying a clientId this tracker never sent (should stay 0). */
  unknown = 0;

  constructor(private readonly replicaOf: readonly number[]) {}

  get sends(): number {
    return this.sent.size;
  }

  get expected(): number {
    return this.sent.size * this.replicaOf.length;
  }

  /** Call right before emitting. */
  markSent(id: string, sender: number): void {
    this.sent.set(id, {
      at: performance.now(),
      sender,
      senderReplica: this.replicaOf[sender] ?? -1,
      got: new Uint8Array(this.replicaOf.length),
      times: new Float64Array(this.replicaOf.length).fill(Number.NaN),
    });
  }

  /** Forget a send whose acknowledgement failed: nothing was broadcast for it. */
  unmark(id: string): void {
    const s = this.sent.get(id);
    if (s && !s.got.some((g) => g > 0)) this.sent.delete(id);
  }

  receive(id: string, receiver: number, now = performance.now()): void {
    const s = this.sent.get(id);
    if (!s) {
      this.unknown++;
      return;
    }
    if (s.got[receiver]) {
      this.duplicates++;
      return;
    }
    s.got[receiver] = 1;
    s.times[receiver] = now;
    this.delivered++;
    if (now > this.lastReceiptAt) this.lastReceiptAt = now;
    const ms = now - s.at;
    if (receiver === s.sender) this.echo.push(ms);
    else if (this.replicaOf[receiver] === s.senderReplica) this.sameReplica.push(ms);
    else this.crossReplica.push(ms);
  }

  /**
   * Fan-out delay, independent of how long the server took to persist: for each send, the time
   * of each receipt minus the earliest receipt on the sender's own replica (which is when that
   * replica emitted the broadcast, give or take one socket write). Same-replica values are the
   * spread of one local emit over its sockets; cross-replica values add the Redis adapter hop.
   */
  fanOutDelays(): { sameReplica: number[]; crossReplica: number[] } {
    const same: number[] = [];
    const cross: number[] = [];
    for (const s of this.sent.values()) {
      let first = Number.POSITIVE_INFINITY;
      s.times.forEach((t, r) => {
        if (this.replicaOf[r] === s.senderReplica && t < first) first = t;
      });
      if (!Number.isFinite(first)) continue;
      s.times.forEach((t, r) => {
        if (Number.isNaN(t) || r === s.sender) return;
        (this.replicaOf[r] === s.senderReplica ? same : cross).push(t - first);
      });
    }
    return { sameReplica: same, crossReplica: cross };
  }

  /** Missing deliveries by path, e.g. { "r1->r2": 3 }. */
  missingByPath(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.sent.values()) {
      s.got.forEach((g, receiver) => {
        if (g) return;
        const key = `r${s.senderReplica + 1}->r${(this.replicaOf[receiver] ?? -1) + 1}`;
        out[key] = (out[key] ?? 0) + 1;
      });
    }
    return out;
  }
}

/** Per client, the highest project `seq` seen so far; counts events that arrive below it. */
export class SeqWatch {
  private last: Float64Array;
  inversions = 0;
  constructor(clients: number) {
    this.last = new Float64Array(clients).fill(-1);
  }
  see(client: number, seq: unknown): void {
    if (typeof seq !== 'number') return;
    if (seq < (this.last[client] ?? -1)) this.inversions++;
    else this.last[client] = seq;
  }
  reset(): void {
    this.last.fill(-1);
    this.inversions = 0;
  }
}

export interface FleetHooks {
  /** chat:newMessage / task:moved with a clientId: routed to the current scenario's tracker. */
  chat?: DeliveryTracker;
  moves?: DeliveryTracker;
  seq: SeqWatch;
  /** Sockets that disconnected after joining (reconnection is off, so they stay gone). */
  disconnects: { client: number; reason: string }[];
}

/** Opens one client, joins the project and #general; throws on any failed step. */
export async function openClient(opts: {
  index: number;
  replica: number;
  url: string;
  token: string;
  projectId: string;
  channelId: string;
  hooks: FleetHooks;
  timeoutMs: number;
}): Promise<BenchClient> {
  const { index, hooks } = opts;
  const socket = io(opts.url, {
    auth: { token: opts.token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: opts.timeoutMs,
  });
  socket.on('chat:newMessage', (p: { clientId?: unknown; seq?: unknown }) => {
    const now = performance.now();
    hooks.seq.see(index, p.seq);
    if (typeof p.clientId === 'string') hooks.chat?.receive(p.clientId, index, now);
  });
  socket.on('task:moved', (p: { clientId?: unknown; seq?: unknown }) => {
    const now = performance.now();
    hooks.seq.see(index, p.seq);
    if (typeof p.clientId === 'string') hooks.moves?.receive(p.clientId, index, now);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`client ${index}: no connection within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(new Error(`client ${index}: ${err.message}`));
    });
  });
  const joined = await call(socket, 'join:project', { projectId: opts.projectId }, opts.timeoutMs);
  if (!joined.ok) throw new Error(`client ${index}: join:project ${JSON.stringify(joined.error)}`);
  const chat = await call(socket, 'chat:join', opts.channelId, opts.timeoutMs);
  if (!chat.ok) throw new Error(`client ${index}: chat:join ${JSON.stringify(chat.error)}`);
  socket.on('disconnect', (reason) => hooks.disconnects.push({ client: index, reason }));
  return { index, replica: opts.replica, socket };
}

import type { Server as HttpServer } from 'node:http';
import { rooms, type AnyDomainEvent } from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { createLimiter } from '../core/rate-limit.js';
import type { RedisConnections } from '../core/redis.js';
import type { Metrics } from '../ops/metrics.js';
import { accessCache } from '../projects/access-cache.js';
import { currentSeq } from '../projects/events.js';
import { memberNotifier, projectSocket } from '../projects/project.socket.js';
import { taskNotifier, taskSocket } from '../tasks/task.socket.js';
import { chatSocket } from '../chat/chat.socket.js';
import { Delivery } from './delivery.js';
import type { EventLog } from './event-log.js';
import { ExpirySweep } from './expiry.js';
import { SocketEvents, type SocketLimits, type SocketModuleDeps } from './handlers.js';
import { handshake } from './handshake.js';
import { LivePresence } from './live-presence.js';
import { MemoryPresence, RedisPresence, type Presence } from './presence.js';
import { retry } from './retry.js';
import { attachRedis, createIo } from './transport.js';
import { ConnectionSlots } from './connection-slots.js';
import { clientAddress, compileTrust } from '../core/client-address.js';
import type { Redis } from 'ioredis';
import type { ClientSocket, IO } from './types.js';

export type { IO, ClientSocket } from './types.js';

export interface RealtimeOptions {
  ctx: ServiceContext;
  httpServer: HttpServer;
  metrics: Metrics;
  instanceId: string;
  /** With Redis: the Socket.IO Redis adapter, Redis presence and event log. Without: in memory. */
  redis?: RedisConnections;
}

export interface Realtime {
  readonly io: IO;
  readonly presence: Presence;
  readonly eventLog: EventLog;
  /** Who receives which project event and who loses access, for sockets and SSE streams. */
  readonly delivery: Delivery;
  /** Per-user connection slots, cluster-wide with Redis ([A4]). */
  readonly slots: ConnectionSlots;
  /** Every domain event of a project, from this replica and (with Redis) from the others. */
  subscribe(projectId: string, handler: (event: AnyDomainEvent) => void): () => void;
  /** Current project seq and what the log still has after `sinceSeq` (null: reload the snapshot). */
  replay(
    projectId: string,
    sinceSeq: number,
  ): Promise<{ seq: number; events: AnyDomainEvent[] | null }>;
  /** Says goodbye to this replica's clients and removes its presence; then closes Socket.IO. */
  shutdown(): Promise<void>;
}

/**
 * The real-time layer of one replica: the transport (transport.ts, handshake.ts), the ack and
 * rate-limit wrapper (handlers.ts), presence (live-presence.ts), delivery and access
 * (delivery.ts), and each domain's handlers beside its service (`*.socket.ts`).
 */
export function createRealtime(opts: RealtimeOptions): Realtime {
  const { ctx, httpServer, metrics, instanceId, redis } = opts;
  const { config, logger, bus } = ctx;
  const log = logger.child({ component: 'realtime' });
  const trust = compileTrust(config.TRUST_PROXY);
  const io = createIo(httpServer, config, (req) => clientAddress(req, trust));

  let store: Presence;
  let data: Redis | undefined;
  // The write path appends to the log in the same Redis call that takes the seq.
  const eventLog: EventLog = ctx.writes.log;
  if (redis) {
    data = attachRedis(io, redis, metrics).data;
    store = new RedisPresence(data, config.PRESENCE_TTL);
  } else {
    store = new MemoryPresence(config.PRESENCE_TTL);
  }
  const slots = new ConnectionSlots(data, config.PRESENCE_TTL, config.PRESENCE_HEARTBEAT);
  const presence = new LivePresence(io, store, instanceId, config.PRESENCE_HEARTBEAT);
  const delivery = new Delivery(io, presence, redis !== undefined);
  delivery.addNotifier(memberNotifier);
  delivery.addNotifier(taskNotifier);

  // ---------- domain events (already in the log, projects/write-path.ts): deliver, apply ----------
  bus.subscribe((event) => {
    delivery.publish(event);
    delivery.apply(event);
    if (redis) io.serverSideEmit('domain-event', event);
  });
  io.on('domain-event', (event) => {
    delivery.apply(event);
    ctx.boards.apply(event);
  });

  // ---------- access re-check ([A2]): on Redis's return and every ACCESS_RECHECK_INTERVAL ----------
  let rechecking: Promise<void> | undefined;
  function recheckAccess(why: string) {
    rechecking ??= retry(() => delivery.recheck(), { attempts: 5, delayMs: 500 })
      .then((lost) => {
        if (lost > 0) log.info({ lost, why }, 'access re-check revoked connections');
      })
      .catch((err: unknown) => log.warn({ err, why }, 'access re-check failed'))
      .finally(() => {
        rechecking = undefined;
      });
  }
  const recheckTimer = setInterval(() => recheckAccess('periodic'), config.ACCESS_RECHECK_INTERVAL);
  recheckTimer.unref();

  // ---------- access cache epochs ([A1] in docs/protocol.md) ----------
  let detachCache = () => {};
  if (redis) {
    const redisConns = redis;
    const source = accessCache.attach(() => redisConns.state() === 'up');
    let wasDown = false;
    const stopWatching = redisConns.onConnectionChange((_role, state) => {
      source.changed();
      if (state === 'down') wasDown = true;
      if (wasDown && redisConns.state() === 'up') {
        wasDown = false;
        // Our own invalidations may have been dropped while we were away: others forget theirs.
        io.serverSideEmit('access-flush');
        // And we may have missed removals: re-check who our connections belong to ([A2]).
        recheckAccess('redis back');
      }
    });
    io.on('access-flush', () => accessCache.newEpoch());
    detachCache = () => {
      stopWatching();
      source.detach();
    };
  }

  // ---------- client events ----------
  const limits: SocketLimits = {
    mutation: createLimiter('socket-mutation', config.RATE_LIMIT_SOCKET_MUTATIONS, 10_000, data),
    chat: createLimiter('socket-chat', config.RATE_LIMIT_SOCKET_CHAT, 10_000, data),
    typing: createLimiter('socket-typing', config.RATE_LIMIT_SOCKET_TYPING, 5_000, data),
    read: createLimiter('socket-read', config.RATE_LIMIT_SOCKET_MUTATIONS * 2, 10_000, data),
  };
  const events = new SocketEvents(metrics, log, config.NODE_ENV !== 'production');
  const deps: SocketModuleDeps = { io, ctx, limits, delivery, presence, eventLog };
  const onDisconnectHooks = [projectSocket, taskSocket, chatSocket]
    .map((register) => register(events, deps))
    .flatMap((m) => (m?.disconnect ? [m.disconnect] : []));

  // ---------- token expiry ([C2]) ----------
  // A namespace disconnect (not a transport close) reaches the client as 'io server disconnect',
  // so socket.io-client does not retry on its own with the expired token.
  const expiry = new ExpirySweep<ClientSocket>((socket) => {
    if (!socket.connected) return;
    socket.emit('session:ending', { reason: 'token_expired' });
    socket.disconnect();
  });

  // ---------- connections ----------
  // Per client address and per replica: a flood of handshakes costs no Redis round trip.
  const perAddress = createLimiter(
    'socket-handshake',
    config.RATE_LIMIT_SOCKET_HANDSHAKES,
    config.RATE_LIMIT_SOCKET_HANDSHAKE_WINDOW,
  );
  io.use(handshake(config, perAddress, slots));

  function onDisconnect(this: ClientSocket) {
    forgetSocket(this);
  }

  function forgetSocket(socket: ClientSocket) {
    metrics.socketConnections.dec();
    expiry.remove(socket.data.tokenExp, socket);
    slots.release('socket', socket.data.userId, socket.id);
    for (const hook of onDisconnectHooks) hook(socket);
    presence
      .leaveAll(socket.id)
      .catch((err: unknown) => log.warn({ err }, 'presence cleanup failed'));
  }

  io.on('connection', (socket) => {
    metrics.socketConnections.inc();
    void socket.join(rooms.user(socket.data.userId));
    socket.onAny(events.listener);
    socket.on('disconnect', onDisconnect);
    expiry.add(socket.data.tokenExp, socket);
  });

  log.info(
    { adapter: redis ? 'redis' : 'memory' },
    redis
      ? 'Socket.IO with the Redis adapter: broadcasts reach every replica'
      : 'Socket.IO with the in-memory adapter: single instance',
  );

  let shuttingDown: Promise<void> | undefined;
  return {
    io,
    slots,
    presence: store,
    eventLog,
    delivery,
    subscribe: (projectId, handler) => delivery.subscribe(projectId, handler),
    async replay(projectId, sinceSeq) {
      const seq = await currentSeq(ctx, projectId);
      const events = await eventLog.since(projectId, sinceSeq, seq).catch(() => null);
      return { seq, events };
    },
    shutdown() {
      shuttingDown ??= (async () => {
        expiry.close();
        delivery.close();
        clearInterval(recheckTimer);
        detachCache();
        io.local.emit('session:ending', { reason: 'server_shutdown' });
        await Promise.all([presence.close(2000), slots.close()]);
        // Close the connections under Socket.IO, not its sockets: the client sees 'transport
        // close' and reconnects (to another replica) by itself. `disconnectSockets(true)` sends a
        // DISCONNECT packet first, and a client that reads it ('io server disconnect') stays
        // away. engine.io flushes what is buffered (session:ending) before it closes.
        for (const socket of io.of('/').sockets.values()) socket.conn.close();
        await new Promise<void>((resolve) => {
          void io.close(() => resolve());
        });
      })();
      return shuttingDown;
    },
  };
}

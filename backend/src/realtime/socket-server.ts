import { EventEmitter } from 'node:events';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import {
  SOCKET_ERROR_CODES,
  channelIdPayload,
  chatMessagePayload,
  chatTypingPayload,
  joinProjectPayload,
  projectIdPayload,
  rooms,
  taskCreatePayload,
  taskDeletePayload,
  taskMovePayload,
  taskUpdatePayload,
  type AnyDomainEvent,
  type ClientToServerEvents,
  type ErrorInfo,
  type PublicUserDTO,
  type ServerToClientEvents,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { AppError, parse, toErrorResponse } from '../core/errors.js';
import { createLimiter, type Limiter } from '../core/rate-limit.js';
import { dropPublishesWhileDown, type RedisConnections } from '../core/redis.js';
import type { Metrics } from '../ops/metrics.js';
import { verifyAccessToken } from '../auth/tokens.js';
import { User, toPublicUser } from '../auth/user.model.js';
import { NEEDS, requireProject } from '../projects/access.js';
import { accessCache } from '../projects/access-cache.js';
import { currentSeq } from '../projects/events.js';
import * as tasks from '../tasks/task.service.js';
import * as chat from '../chat/chat.service.js';
import { Channel } from '../chat/channel.model.js';
import type { EventLog } from './event-log.js';
import {
  MemoryPresence,
  RedisPresence,
  type Presence,
  type PresenceChange,
  type PresenceEntry,
} from './presence.js';
import { TypingTracker } from './typing.js';

interface InterServerEvents {
  'domain-event': (event: AnyDomainEvent) => void;
  /** A replica whose Redis connections came back may have dropped invalidations: empty caches. */
  'access-flush': () => void;
}

interface SocketData {
  userId: string;
  user: PublicUserDTO;
  tokenExp: number;
}

/** What the server touches of an engine.io connection (not all of it is in its public types). */
interface EngineSocket {
  request: unknown;
  transport?: { socket?: Pick<EventEmitter, 'listeners' | 'removeListener'> };
}

type IO = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type ClientSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

const TYPING_TTL_MS = 5000;

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

export function createRealtime(opts: RealtimeOptions): Realtime {
  const { ctx, httpServer, metrics, instanceId, redis } = opts;
  const { config, logger, bus } = ctx;
  const log = logger.child({ component: 'realtime' });
  const expose = config.NODE_ENV !== 'production';

  const io: IO = new Server(httpServer, {
    path: '/socket.io',
    maxHttpBufferSize: config.SOCKET_MAX_PAYLOAD,
    cors: { origin: config.CORS_ORIGINS, credentials: true },
    pingInterval: 10_000,
    pingTimeout: 5_000,
    // Explicit: a zlib context per connection costs memory and CPU for tiny JSON frames.
    perMessageDeflate: false,
  });
  // The handshake's HTTP request (headers, socket, parser state) is not needed once the
  // connection is established: socket.handshake keeps what the server reads (auth; its `headers`
  // are then empty and `address` comes from the connection). Nothing in the server reads
  // socket.request; the Express app sees the requests of its own routes. engine.io also leaves
  // its `onUpgradeError` listener on a WebSocket that connected directly (no polling first), and
  // that closure's scope holds the request too: the transport has its own error listener.
  io.engine.on('connection', (rawSocket: EngineSocket) => {
    // engine.io's WebSocketResponse still reaches the request from a 'close' listener on the TCP
    // socket: drop what it holds that nothing reads any more (headers, query).
    const req = rawSocket.request as (Partial<IncomingMessage> & { _query?: unknown }) | null;
    if (req) {
      req.headers = {};
      req.rawHeaders = [];
      req._query = {};
    }
    rawSocket.request = null;
    const ws = rawSocket.transport?.socket;
    if (ws && typeof ws.listeners === 'function') {
      for (const l of ws.listeners('error')) {
        if (l.name === 'onUpgradeError') ws.removeListener('error', l as (...a: unknown[]) => void);
      }
    }
  });

  let data: Redis | undefined;
  let presence: Presence;
  // The write path appends to the log in the same Redis call that takes the seq.
  const eventLog: EventLog = ctx.writes.log;
  if (redis) {
    const pub = redis.create('adapter-pub', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    dropPublishesWhileDown(pub, () =>
      metrics.socketEvents.inc({ event: 'redis-publish', outcome: 'dropped' }),
    );
    // The subscriber keeps its commands queued while disconnected and resubscribes on reconnect.
    const sub = redis.duplicate(pub, 'adapter-sub', {
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    io.adapter(createAdapter(pub, sub, { key: 'collabflow:socket.io', requestsTimeout: 3000 }));
    data = redis.create('realtime-data', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    presence = new RedisPresence(data, config.PRESENCE_TTL);
  } else {
    presence = new MemoryPresence(config.PRESENCE_TTL);
  }

  // ---------- domain events: log, broadcast to the project room, feed SSE ----------
  const feed = new EventEmitter();
  feed.setMaxListeners(0);
  const toFeed = (event: AnyDomainEvent) => feed.emit(event.projectId, event);

  function broadcast(event: AnyDomainEvent) {
    const room = rooms.project(event.projectId);
    const payload = {
      ...event.data,
      projectId: event.projectId,
      seq: event.seq,
      at: event.at,
      actor: event.actor,
    };
    if (event.clientId !== undefined) Object.assign(payload, { clientId: event.clientId });
    io.to(room).emit(event.type, payload as never);
    switch (event.type) {
      case 'member:added':
        io.to(rooms.user(event.data.member.userId)).emit('notification', {
          kind: 'project:added',
          message: `You were added to a project as ${event.data.member.role}`,
          projectId: event.projectId,
        });
        break;
      case 'member:removed': {
        const userRoom = rooms.user(event.data.userId);
        io.in(userRoom).socketsLeave(room);
        // Typing goes to channel rooms: leave the project's channels too, so nothing of the
        // project reaches (or is sent by) someone who is no longer a member.
        Channel.find({ projectId: new Types.ObjectId(event.projectId) }, { _id: 1 })
          .lean()
          .then((channels) => {
            if (channels.length === 0) return;
            io.in(userRoom).socketsLeave(channels.map((c) => rooms.channel(c._id.toString())));
          })
          .catch((err: unknown) =>
            log.warn({ err }, 'could not take a removed member out of chat'),
          );
        break;
      }
      case 'project:deleted':
        io.in(room).socketsLeave(room);
        break;
      case 'task:created':
      case 'task:updated': {
        const task = event.data.task;
        const assigned = event.type === 'task:created' || 'assignee' in event.data.updates;
        if (assigned && task.assignee && task.assignee !== event.actor) {
          io.to(rooms.user(task.assignee)).emit('notification', {
            kind: 'task:assigned',
            message: `You were assigned "${task.title}"`,
            projectId: event.projectId,
            data: { taskId: task.id },
          });
        }
        break;
      }
      default:
        break;
    }
  }

  /** What every replica does with every domain event, wherever it happened. */
  function onEveryReplica(event: AnyDomainEvent) {
    accessCache.invalidate(event);
    toFeed(event);
    // A removed member is no longer online in the project: drop this replica's presence entries.
    if (event.type === 'member:removed') forgetPresence(event.projectId, event.data.userId);
    if (event.type === 'project:deleted') forgetProject(event.projectId);
  }

  bus.subscribe((event) => {
    broadcast(event);
    onEveryReplica(event);
    if (redis) io.serverSideEmit('domain-event', event);
  });
  io.on('domain-event', (event) => onEveryReplica(event));

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
      }
    });
    io.on('access-flush', () => accessCache.newEpoch());
    detachCache = () => {
      stopWatching();
      source.detach();
    };
  }

  // ---------- presence ----------
  /** This replica's live presence entries, by socket id. */
  const local = new Map<string, Map<string, PresenceEntry>>();

  async function usersOnline(
    projectId: string,
    fallback: PublicUserDTO[],
  ): Promise<PublicUserDTO[]> {
    let ids: string[];
    try {
      ids = await presence.online(projectId);
    } catch {
      return fallback; // Redis away: we only know ourselves
    }
    if (ids.length === 0) return [];
    const { found, missing } = accessCache.usersCached(ids);
    if (missing.length === 0) return found;
    const users = (
      await User.find(
        { _id: { $in: missing.map((id) => new Types.ObjectId(id)) } },
        { name: 1, avatarColor: 1 },
      ).lean()
    ).map(toPublicUser);
    accessCache.rememberUsers(users);
    return [...found, ...users];
  }

  /** A user's public profile: from the access cache, else one read. */
  function publicUser(userId: string): Promise<PublicUserDTO | null> {
    return accessCache.user(userId, async () => {
      const u = await User.findById(userId, { name: 1, avatarColor: 1 }).lean();
      return u ? toPublicUser(u) : null;
    });
  }

  async function announceJoined(changes: PresenceChange[]) {
    for (const c of changes) {
      const user = await publicUser(c.userId);
      io.to(rooms.project(c.projectId)).emit('user:joined', {
        projectId: c.projectId,
        userId: c.userId,
        ...(user ? { user } : {}),
      });
    }
  }

  function announceLeft(changes: PresenceChange[]) {
    for (const c of changes)
      io.to(rooms.project(c.projectId)).emit('user:left', {
        projectId: c.projectId,
        userId: c.userId,
      });
  }

  async function joinPresence(socket: ClientSocket, projectId: string): Promise<void> {
    const entry: PresenceEntry = {
      projectId,
      userId: socket.data.userId,
      connId: `${instanceId}/${socket.id}`,
    };
    let entries = local.get(socket.id);
    if (!entries) local.set(socket.id, (entries = new Map()));
    entries.set(projectId, entry);
    const first = await presence.join(entry).catch(() => false);
    if (first) {
      io.to(rooms.project(projectId)).emit('user:joined', {
        projectId,
        userId: entry.userId,
        user: socket.data.user,
      });
    }
  }

  async function leavePresence(socketId: string, projectId: string): Promise<void> {
    const entry = local.get(socketId)?.get(projectId);
    if (!entry) return;
    local.get(socketId)?.delete(projectId);
    if (local.get(socketId)?.size === 0) local.delete(socketId);
    const last = await presence.leave(entry).catch(() => false);
    if (last) announceLeft([{ projectId, userId: entry.userId }]);
  }

  function forgetPresence(projectId: string, userId: string) {
    for (const [socketId, entries] of local) {
      if (entries.get(projectId)?.userId === userId) void leavePresence(socketId, projectId);
    }
  }

  /** The project of each channel room a socket of this replica joined (for project deletion). */
  const channelRooms = new Map<string, string>();

  /** A deleted project lets go of this replica's sockets: no presence, no chat rooms. */
  function forgetProject(projectId: string) {
    for (const [socketId, entries] of local) {
      if (entries.has(projectId)) void leavePresence(socketId, projectId);
    }
    const gone = [...channelRooms].filter(([, pid]) => pid === projectId).map(([room]) => room);
    for (const room of gone) channelRooms.delete(room);
    if (gone.length > 0) io.local.in(gone).socketsLeave(gone);
  }

  let ticking = false;
  const heartbeat = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void (async () => {
      try {
        const entries = [...local.values()].flatMap((m) => [...m.values()]);
        await announceJoined(await presence.heartbeat(entries));
        announceLeft(await presence.reap());
      } catch {
        // Redis away: the next tick tries again; the connection group has logged the outage.
      } finally {
        ticking = false;
      }
    })();
  }, config.PRESENCE_HEARTBEAT);
  heartbeat.unref();

  // ---------- typing ----------
  const typingSockets = new Map<string, ClientSocket>();
  const typing = new TypingTracker(TYPING_TTL_MS, (socketId, channelId) => {
    const socket = typingSockets.get(socketId);
    if (socket) emitTyping(socket, channelId, false);
  });
  function emitTyping(socket: ClientSocket, channelId: string, isTyping: boolean) {
    socket.to(rooms.channel(channelId)).volatile.emit('chat:userTyping', {
      channelId,
      userId: socket.data.userId,
      user: socket.data.user,
      isTyping,
    });
  }

  // ---------- handshake ----------
  io.use(async (socket, next) => {
    const auth: unknown = socket.handshake.auth;
    const token =
      typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    const fail = (code: string, message: string) => {
      const err = new Error(message) as Error & { data?: ErrorInfo };
      err.data = { code, message };
      next(err);
    };
    if (typeof token !== 'string' || token.length === 0)
      return fail(SOCKET_ERROR_CODES.unauthorized, 'missing auth.token');
    const result = verifyAccessToken(token, config.JWT_SECRET);
    if (!result.ok) return fail(result.code, result.message);
    try {
      const user = await publicUser(result.claims.sub);
      if (!user) return fail(SOCKET_ERROR_CODES.unauthorized, 'account no longer exists');
      socket.data.userId = result.claims.sub;
      socket.data.user = user;
      socket.data.tokenExp = result.claims.exp;
      next();
    } catch {
      fail('unavailable', 'the server cannot check your account right now; retry shortly');
    }
  });

  // ---------- per-socket limits ----------
  const limits = {
    mutation: createLimiter('socket-mutation', config.RATE_LIMIT_SOCKET_MUTATIONS, 10_000),
    chat: createLimiter('socket-chat', config.RATE_LIMIT_SOCKET_CHAT, 10_000),
    typing: createLimiter('socket-typing', config.RATE_LIMIT_SOCKET_TYPING, 5_000),
    read: createLimiter('socket-read', config.RATE_LIMIT_SOCKET_MUTATIONS * 2, 10_000),
  };

  // ---------- token expiry: one sweep per replica, not a timer per socket ----------
  // A token that expires while connected ends the connection; the client refreshes and reconnects.
  // A namespace disconnect (not a transport close) reaches the client as 'io server disconnect',
  // so socket.io-client does not retry on its own with the expired token. Sockets are bucketed by
  // the second their token expires (JWT `exp` has 1 s resolution); the sweep ends due buckets.
  const expiring = new Map<number, Set<ClientSocket>>();
  function expire(socket: ClientSocket) {
    if (!socket.connected) return;
    socket.emit('session:ending', { reason: 'token_expired' });
    socket.disconnect();
  }
  const expirySweep = setInterval(() => {
    const now = Date.now();
    for (const [exp, sockets] of expiring) {
      if (exp * 1000 > now) continue;
      expiring.delete(exp);
      for (const socket of sockets) expire(socket);
    }
  }, 250);
  expirySweep.unref();

  // ---------- client events: one table of shared handlers, not closures per socket ----------
  type Handler = (socket: ClientSocket, payload: unknown) => Promise<unknown>;
  const handlers = new Map<string, { limiter: Limiter; handler: Handler }>();
  function on(event: keyof ClientToServerEvents, limiter: Limiter, handler: Handler) {
    handlers.set(event, { limiter, handler });
  }

  async function handle(
    socket: ClientSocket,
    event: string,
    entry: { limiter: Limiter; handler: Handler },
    args: unknown[],
  ) {
    let [payload, ack] = args;
    if (typeof ack !== 'function' && typeof payload === 'function' && args.length === 1) {
      ack = payload;
      payload = undefined;
    }
    if (typeof ack !== 'function') {
      // Every client event must carry an acknowledgement; without one there is nobody to answer.
      metrics.socketEvents.inc({ event, outcome: 'no_ack' });
      return;
    }
    const reply = ack as (answer: unknown) => void;
    try {
      await entry.limiter.consume(socket.id);
      const data = await entry.handler(socket, payload);
      metrics.socketEvents.inc({ event, outcome: 'ok' });
      reply({ ok: true, data: data ?? null });
    } catch (err) {
      const { body, unexpected } = toErrorResponse(err, expose);
      if (unexpected) log.error({ err, event }, 'socket handler failed');
      metrics.socketEvents.inc({ event, outcome: body.code });
      reply({ ok: false, error: body });
    }
  }

  /** Every client event of every socket (socket.io calls it with the socket as `this`). */
  function onClientEvent(this: ClientSocket, event: string, ...args: unknown[]) {
    const entry = handlers.get(event);
    if (entry) {
      void handle(this, event, entry, args);
      return;
    }
    const ack = args[args.length - 1];
    metrics.socketEvents.inc({ event: 'unknown', outcome: 'unknown_event' });
    if (typeof ack === 'function') {
      (ack as (a: unknown) => void)({
        ok: false,
        error: { code: 'unknown_event', message: `unknown event ${String(event).slice(0, 50)}` },
      });
    }
  }

  function onDisconnect(this: ClientSocket) {
    forgetSocket(this);
  }

  function forgetSocket(socket: ClientSocket) {
    metrics.socketConnections.dec();
    const bucket = expiring.get(socket.data.tokenExp);
    if (bucket) {
      bucket.delete(socket);
      if (bucket.size === 0) expiring.delete(socket.data.tokenExp);
    }
    for (const channelId of typing.clear(socket.id)) emitTyping(socket, channelId, false);
    typingSockets.delete(socket.id);
    const projects = [...(local.get(socket.id)?.keys() ?? [])];
    void Promise.all(projects.map((pid) => leavePresence(socket.id, pid))).catch((err: unknown) =>
      log.warn({ err }, 'presence cleanup failed'),
    );
  }

  on('join:project', limits.read, async (socket, raw) => {
    const { projectId, sinceSeq } = parse(joinProjectPayload, raw, 'join:project');
    await requireProject(projectId, socket.data.userId, NEEDS.read);
    const seq = await currentSeq(ctx, projectId);
    await socket.join(rooms.project(projectId));
    await joinPresence(socket, projectId);
    const users = await usersOnline(projectId, [socket.data.user]);
    socket.emit('room:users', { projectId, users });
    const result: {
      seq: number;
      users: PublicUserDTO[];
      missed?: AnyDomainEvent[];
      resync?: boolean;
    } = {
      seq,
      users,
    };
    if (sinceSeq !== undefined) {
      const missed = await eventLog.since(projectId, sinceSeq, seq).catch(() => null);
      if (missed) result.missed = missed;
      else result.resync = true;
    }
    return result;
  });

  on('leave:project', limits.read, async (socket, raw) => {
    const projectId = parse(projectIdPayload, raw, 'leave:project');
    await socket.leave(rooms.project(projectId));
    await leavePresence(socket.id, projectId);
    return null;
  });

  on('task:create', limits.mutation, async (socket, raw) => {
    const p = parse(taskCreatePayload, raw, 'task:create');
    const { result } = await tasks.createTask(
      ctx,
      socket.data.userId,
      p.projectId,
      p.task,
      p.clientId,
    );
    return { task: result };
  });
  on('task:update', limits.mutation, async (socket, raw) => {
    const p = parse(taskUpdatePayload, raw, 'task:update');
    const body = p.version === undefined ? p.updates : { ...p.updates, version: p.version };
    const { result } = await tasks.updateTask(ctx, socket.data.userId, p.taskId, body, {
      projectId: p.projectId,
      clientId: p.clientId,
    });
    return { task: result };
  });
  on('task:move', limits.mutation, async (socket, raw) => {
    const p = parse(taskMovePayload, raw, 'task:move');
    const body: Record<string, unknown> = { status: p.toStatus };
    if (p.newIndex !== undefined) body.index = p.newIndex;
    if (p.beforeId !== undefined) body.beforeId = p.beforeId;
    if (p.afterId !== undefined) body.afterId = p.afterId;
    if (p.version !== undefined) body.version = p.version;
    const { result } = await tasks.moveTask(ctx, socket.data.userId, p.taskId, body, {
      projectId: p.projectId,
      clientId: p.clientId,
    });
    return { task: result };
  });
  on('task:delete', limits.mutation, async (socket, raw) => {
    const p = parse(taskDeletePayload, raw, 'task:delete');
    await tasks.deleteTask(ctx, socket.data.userId, p.taskId, {
      projectId: p.projectId,
      clientId: p.clientId,
    });
    return null;
  });

  on('chat:join', limits.read, async (socket, raw) => {
    const channelId = parse(channelIdPayload, raw, 'chat:join');
    const channel = await chat.loadChannel(channelId, socket.data.userId, NEEDS.read);
    channelRooms.set(rooms.channel(channelId), channel.projectId.toString());
    await socket.join(rooms.channel(channelId));
    const { messages } = await chat.listMessages(socket.data.userId, channelId, {});
    return { messages };
  });
  on('chat:leave', limits.read, async (socket, raw) => {
    const channelId = parse(channelIdPayload, raw, 'chat:leave');
    await socket.leave(rooms.channel(channelId));
    if (typing.set(socket.id, channelId, false)) emitTyping(socket, channelId, false);
    return null;
  });
  on('chat:message', limits.chat, async (socket, raw) => {
    const p = parse(chatMessagePayload, raw, 'chat:message');
    const { result } = await chat.postMessage(
      ctx,
      socket.data.userId,
      p.channelId,
      { content: p.content },
      p.clientId,
    );
    if (typing.set(socket.id, p.channelId, false)) emitTyping(socket, p.channelId, false);
    return { message: result };
  });
  on('chat:typing', limits.typing, async (socket, raw) => {
    const p = parse(chatTypingPayload, raw, 'chat:typing');
    if (!socket.rooms.has(rooms.channel(p.channelId))) {
      throw new AppError(403, 'forbidden', 'join the channel (chat:join) before typing in it');
    }
    typingSockets.set(socket.id, socket);
    typing.set(socket.id, p.channelId, p.isTyping);
    emitTyping(socket, p.channelId, p.isTyping);
    return null;
  });

  io.on('connection', (socket) => {
    metrics.socketConnections.inc();
    void socket.join(rooms.user(socket.data.userId));
    socket.onAny(onClientEvent);
    socket.on('disconnect', onDisconnect);
    const exp = socket.data.tokenExp;
    let bucket = expiring.get(exp);
    if (!bucket) expiring.set(exp, (bucket = new Set()));
    bucket.add(socket);
    if (exp * 1000 <= Date.now()) expire(socket);
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
    presence,
    eventLog,
    subscribe(projectId, handler) {
      feed.on(projectId, handler);
      return () => feed.off(projectId, handler);
    },
    async replay(projectId, sinceSeq) {
      const seq = await currentSeq(ctx, projectId);
      const events = await eventLog.since(projectId, sinceSeq, seq).catch(() => null);
      return { seq, events };
    },
    shutdown() {
      shuttingDown ??= (async () => {
        clearInterval(heartbeat);
        clearInterval(expirySweep);
        detachCache();
        io.local.emit('session:ending', { reason: 'server_shutdown' });
        const entries = [...local.entries()].flatMap(([sid, m]) =>
          [...m.keys()].map((pid) => [sid, pid] as const),
        );
        await Promise.race([
          Promise.all(entries.map(([sid, pid]) => leavePresence(sid, pid))),
          new Promise((r) => setTimeout(r, 2000)),
        ]);
        io.local.disconnectSockets(true);
        await new Promise<void>((resolve) => {
          void io.close(() => resolve());
        });
      })();
      return shuttingDown;
    },
  };
}

import { createServer, type Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import type { Express } from 'express';
import type { Config } from './config.js';
import type { ServiceContext } from './core/context.js';
import { EventBus } from './core/event-bus.js';
import { createLogger, type Logger } from './core/logger.js';
import { connectMongo, disconnectMongo } from './core/mongo.js';
import { createHolds, createLimiter } from './core/rate-limit.js';
import { createRevocations } from './auth/revocations.js';
import { registerRevocations } from './auth/access.js';
import { RedisConnections } from './core/redis.js';
import { createApp } from './app.js';
import { createMetrics } from './ops/metrics.js';
import { readiness } from './ops/health.js';
import { createRealtime, type Realtime } from './realtime/socket-server.js';
import { ProjectWrites } from './projects/write-path.js';
import { BoardCache } from './tasks/board-cache.js';
import { sseRoutes } from './realtime/sse.js';

// Models register themselves with mongoose on import; import all so their indexes are built.
import './auth/user.model.js';
import './auth/refresh-token.model.js';
import './workspaces/workspace.model.js';
import './projects/project.model.js';
import './tasks/task.model.js';
import './chat/channel.model.js';
import './chat/message.model.js';

export interface CollabServer {
  readonly app: Express;
  readonly httpServer: HttpServer;
  readonly ctx: ServiceContext;
  readonly instanceId: string;
  readonly realtime: Realtime;
  /** Resolves with the bound port (pass 0 for a free one). */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting, closes connections, Redis and MongoDB. Safe to call twice. */
  close(): Promise<void>;
}

/** The composition root: builds every part from the configuration and wires them together. */
export async function createCollabServer(config: Config, logger?: Logger): Promise<CollabServer> {
  const instanceId = config.INSTANCE_ID ?? `${hostname()}:${process.pid}`;
  const log = logger ?? createLogger(config.LOG_LEVEL, instanceId);
  await connectMongo(config.MONGODB_URI, log);

  let redis: RedisConnections | undefined;
  let limiterClient;
  if (config.REDIS_URL) {
    redis = new RedisConnections(config.REDIS_URL, log, config.REDIS_TLS_CA_FILE);
    limiterClient = redis.create('rate-limit', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
  } else {
    log.info(
      'REDIS_URL is not set: running as a single instance (in-memory adapter, presence and rate limits)',
    );
  }
  const metrics = createMetrics();
  const bus = new EventBus((err, event) =>
    log.error({ err, type: event.type }, 'event subscriber failed'),
  );
  bus.subscribe((e) => metrics.domainEvents.inc({ type: e.type }));
  // This replica's own events; the realtime layer feeds the other replicas' ones ([W7]).
  const boards = new BoardCache();
  bus.subscribe((e) => boards.apply(e));
  // Every change of a project: queue, lease, seq + event log in one Redis call, outbox.
  const writes = new ProjectWrites({
    logger: log,
    ...(redis
      ? { redis: redis.create('writes', { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) }
      : {}),
    options: {
      queueLimit: config.WRITE_QUEUE_LIMIT,
      lockTtlMs: config.WRITE_LOCK_TTL,
      lockWaitMs: config.WRITE_LOCK_WAIT,
      sweepMs: config.OUTBOX_SWEEP,
      eventLogSize: config.EVENT_LOG_SIZE,
      ...(config.FAILPOINT
        ? { dieAfterWrite: config.FAILPOINT.slice('die-after-write:'.length) }
        : {}),
    },
  });

  const window = config.RATE_LIMIT_LOGIN_WINDOW;
  // The access-token denylist shares the limiters' Redis client (no offline queue: fails fast).
  const revocations = createRevocations(limiterClient, log);
  registerRevocations(config, revocations);
  const ctx: ServiceContext = {
    config,
    logger: log,
    bus,
    revocations,
    // The real-time layer installs the real one (ends sockets and SSE streams on every replica).
    sessions: { endUser: () => undefined },
    writes,
    boards,
    limiters: {
      api: createLimiter(
        'api',
        config.RATE_LIMIT_API_POINTS,
        config.RATE_LIMIT_API_WINDOW,
        limiterClient,
      ),
      loginEmail: createLimiter(
        'login-email',
        config.RATE_LIMIT_LOGIN_PER_EMAIL,
        window,
        limiterClient,
      ),
      loginIp: createLimiter('login-ip', config.RATE_LIMIT_LOGIN_PER_IP, window, limiterClient),
      loginDelay: createHolds('login-delay', limiterClient),
    },
  };

  // The HTTP server exists first, with its request listener in place, so that Socket.IO (which
  // attaches next) can route /socket.io/ requests to engine.io and everything else to Express.
  const handler: { app?: Express } = {};
  const httpServer = createServer((req, res) => {
    if (handler.app) handler.app(req, res);
    else res.writeHead(503).end();
  });
  const realtime = createRealtime({ ctx, httpServer, metrics, instanceId, redis });
  // Logout and the like end the user's sockets and SSE streams on every replica ([C6]).
  ctx.sessions.endUser = (userId) => realtime.delivery.endUser(userId);
  // Subscribers are in place: publish what a process that died before publishing left behind.
  writes.start(bus);
  const expressApp = createApp(ctx, {
    metrics,
    readiness: () => readiness(() => (redis ? redis.state() : 'disabled')),
    apiRouters: [sseRoutes(realtime, config)],
  });
  handler.app = expressApp;

  let closing: Promise<void> | undefined;
  return {
    app: expressApp,
    httpServer,
    ctx,
    instanceId,
    realtime,
    listen(port = config.PORT, host = config.HOST) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const addr = httpServer.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    close() {
      closing ??= (async () => {
        // Stop accepting, say goodbye to sockets (they reconnect to another replica), remove this
        // replica's presence, then close Redis and MongoDB.
        const stopped = new Promise<void>((resolve) => {
          if (!httpServer.listening) return resolve();
          httpServer.close(() => resolve());
        });
        await realtime.shutdown();
        await writes.close();
        httpServer.closeAllConnections();
        await stopped;
        await redis?.close();
        await disconnectMongo();
      })();
      return closing;
    },
  };
}

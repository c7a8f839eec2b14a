import { createServer, type Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import type { Express } from 'express';
import type { Config } from './config.js';
import type { ServiceContext } from './core/context.js';
import { EventBus } from './core/event-bus.js';
import { createLogger, type Logger } from './core/logger.js';
import { connectMongo, disconnectMongo } from './core/mongo.js';
import { createLimiter } from './core/rate-limit.js';
import { createRedis, type ManagedRedis } from './core/redis.js';
import { createApp } from './app.js';
import { createMetrics } from './ops/metrics.js';
import { readiness } from './ops/health.js';

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

  let limiterRedis: ManagedRedis | undefined;
  if (config.REDIS_URL) {
    limiterRedis = createRedis(config.REDIS_URL, 'rate-limit', log, {
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

  const window = config.RATE_LIMIT_LOGIN_WINDOW;
  const ctx: ServiceContext = {
    config,
    logger: log,
    bus,
    limiters: {
      api: createLimiter(
        'api',
        config.RATE_LIMIT_API_POINTS,
        config.RATE_LIMIT_API_WINDOW,
        limiterRedis?.client,
      ),
      loginEmail: createLimiter(
        'login-email',
        config.RATE_LIMIT_LOGIN_PER_EMAIL,
        window,
        limiterRedis?.client,
      ),
      loginIp: createLimiter(
        'login-ip',
        config.RATE_LIMIT_LOGIN_PER_IP,
        window,
        limiterRedis?.client,
      ),
    },
  };

  const app = createApp(ctx, {
    metrics,
    readiness: () => readiness(() => (limiterRedis ? limiterRedis.state() : 'disabled')),
  });
  const httpServer = createServer(app);

  let closing: Promise<void> | undefined;
  return {
    app,
    httpServer,
    ctx,
    instanceId,
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
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
        if (limiterRedis) limiterRedis.client.disconnect();
        await disconnectMongo();
      })();
      return closing;
    },
  };
}

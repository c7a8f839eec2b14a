import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import cookieParser from 'cookie-parser';
import { pinoHttp } from 'pino-http';
import type { ServiceContext } from './core/context.js';
import { errors, toErrorResponse } from './core/errors.js';
import { authenticate } from './auth/middleware.js';
import { authRoutes } from './auth/auth.routes.js';
import { workspaceRoutes } from './workspaces/workspace.routes.js';
import { projectRoutes } from './projects/project.routes.js';
import { taskRoutes } from './tasks/task.routes.js';
import { chatRoutes } from './chat/chat.routes.js';
import type { Metrics } from './ops/metrics.js';
import type { Readiness } from './ops/health.js';
import { buildOpenApi } from './ops/openapi.js';

export interface AppOptions {
  metrics: Metrics;
  readiness: () => Promise<Readiness>;
  /** Extra authenticated routers under /api (the real-time layer adds the SSE stream). */
  apiRouters?: Router[];
}

/** The Express app, without listening: the composition root (or a test) decides where it runs. */
export function createApp(ctx: ServiceContext, opts: AppOptions): express.Express {
  const { config, logger } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id =
          typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
    }),
  );
  app.use(helmet());
  app.use(
    cors({
      origin: config.CORS_ORIGINS,
      credentials: true,
      exposedHeaders: ['Retry-After', 'X-Request-Id'],
    }),
  );
  app.use(opts.metrics.middleware);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const r = await opts.readiness();
    res.status(r.mongo === 'up' ? 200 : 503).json(r);
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', opts.metrics.registry.contentType);
    res.send(await opts.metrics.registry.metrics());
  });

  const openapi = buildOpenApi(process.env.npm_package_version ?? '0.1.0');
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  app.use('/api', express.json({ limit: config.BODY_LIMIT, strict: true }), cookieParser());
  app.use('/api/auth', authRoutes(ctx));
  const api = express.Router();
  api.use(authenticate(ctx));
  api.use(
    workspaceRoutes(ctx),
    projectRoutes(ctx),
    taskRoutes(ctx),
    chatRoutes(ctx),
    ...(opts.apiRouters ?? []),
  );
  app.use('/api', api);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(errors.notFound(`route ${req.method} ${req.path}`));
  });
  // Express recognises an error handler by its four parameters.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, headers, unexpected } = toErrorResponse(
      err,
      config.NODE_ENV !== 'production',
    );
    if (unexpected) req.log.error({ err }, 'request failed');
    if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (res.headersSent) return;
    res.status(status).json({ error: body });
  });
  return app;
}

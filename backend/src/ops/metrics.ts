import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per server instance, so tests can run several in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'collabflow_' });
  const httpRequests = new Counter({
    name: 'collabflow_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'collabflow_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const domainEvents = new Counter({
    name: 'collabflow_domain_events_total',
    help: 'Domain events published, by type',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const socketConnections = new Gauge({
    name: 'collabflow_socket_connections',
    help: 'Socket.IO connections open on this replica',
    registers: [registry],
  });
  const socketEvents = new Counter({
    name: 'collabflow_socket_events_total',
    help: 'Client socket events handled, by event and outcome',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });

  function middleware(req: Request, res: Response, next: NextFunction) {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      // The matched route pattern keeps label cardinality bounded (no ids in labels).
      const route =
        typeof req.route?.path === 'string' ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  }

  return { registry, middleware, domainEvents, socketConnections, socketEvents };
}

export type Metrics = ReturnType<typeof createMetrics>;

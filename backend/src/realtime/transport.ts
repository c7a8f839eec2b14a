import type { EventEmitter } from 'node:events';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { dropPublishesWhileDown, type RedisConnections } from '../core/redis.js';
import type { Metrics } from '../ops/metrics.js';
import { ADAPTER_KEY } from './emitter.js';
import type { IO } from './types.js';

/** What the server touches of an engine.io connection (not all of it is in its public types). */
interface EngineSocket {
  request: unknown;
  transport?: { socket?: Pick<EventEmitter, 'listeners' | 'removeListener'> };
  /** The client's address by the TRUST_PROXY rules, kept for the handshake ([A4]). */
  clientAddress?: string;
}

/** The client's address of a socket's connection (see createIo). */
export function clientAddress(conn: unknown): string | undefined {
  return (conn as EngineSocket | null)?.clientAddress;
}

/** The Socket.IO server on the HTTP server, without the handshake request kept per connection. */
export function createIo(
  httpServer: HttpServer,
  config: Config,
  addressOf: (req: IncomingMessage) => string,
): IO {
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
    const req = rawSocket.request as (IncomingMessage & { _query?: unknown }) | null;
    if (req) {
      // Read before the headers go: the handshake limits connections per client address.
      rawSocket.clientAddress = addressOf(req);
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
  return io;
}

/**
 * The Redis adapter (broadcasts reach every replica) and the replica's data client (presence,
 * event log, connection caps, socket rate limits).
 */
export function attachRedis(io: IO, redis: RedisConnections, metrics: Metrics): { data: Redis } {
  const pub = redis.create('adapter-pub', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  dropPublishesWhileDown(pub, () =>
    metrics.socketEvents.inc({ event: 'redis-publish', outcome: 'dropped' }),
  );
  // The subscriber keeps its commands queued while disconnected and resubscribes on reconnect.
  const sub = redis.duplicate(pub, 'adapter-sub', {
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
  });
  io.adapter(createAdapter(pub, sub, { key: ADAPTER_KEY, requestsTimeout: 3000 }));
  const data = redis.create('realtime-data', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  return { data };
}

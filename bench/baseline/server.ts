/**
 * The minimal relay that `npm run bench` measures CollabFlow against (issue 7): Socket.IO with
 * `@socket.io/redis-adapter` on an ioredis pub/sub pair and `jsonwebtoken` on the handshake, built
 * the way the common Socket.IO guide builds it. `join:project` joins a room and acks;
 * `task:update` is relayed to the room as `task:updated` and acked. Nothing is stored, nothing is
 * checked beyond the token. Same conventions as a replica: HOST, PORT, REDIS_URL, JWT_SECRET,
 * `GET /readyz`, and `GET /metrics` with the two figures the bench reads.
 *
 *   HOST=127.0.0.1 PORT=4100 REDIS_URL=redis://127.0.0.1:6379 JWT_SECRET=... \
 *     node --import tsx bench/baseline/server.ts
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 4100);
const host = process.env.HOST ?? '127.0.0.1';
const secret = process.env.JWT_SECRET ?? '';
if (!secret || !process.env.REDIS_URL)
  throw new Error('baseline: JWT_SECRET and REDIS_URL are required');

const http = createServer((req, res) => {
  if (req.url === '/readyz') return res.end('ok');
  if (req.url === '/metrics') {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    return res.end(
      `collabflow_nodejs_heap_size_used_bytes ${m.heapUsed}\n` +
        `collabflow_nodejs_heap_size_total_bytes ${m.heapTotal}\n` +
        `collabflow_process_resident_memory_bytes ${m.rss}\n` +
        `collabflow_process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}\n`,
    );
  }
  res.statusCode = 404;
  res.end();
});
const pub = new Redis(process.env.REDIS_URL);
const sub = pub.duplicate();
const io = new Server(http, { adapter: createAdapter(pub, sub) });

io.use((socket, next) => {
  try {
    const claims = jwt.verify(String(socket.handshake.auth.token), secret) as jwt.JwtPayload;
    socket.data.userId = claims.sub;
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

io.on('connection', (socket) => {
  socket.on('join:project', async (payload: { projectId: string }, ack: (a: unknown) => void) => {
    await socket.join(`project:${payload.projectId}`);
    ack({ ok: true, data: { seq: 0, users: [] } });
  });
  socket.on('task:update', (payload: Record<string, unknown>, ack: (a: unknown) => void) => {
    io.to(`project:${String(payload.projectId)}`).emit('task:updated', {
      ...payload,
      actor: socket.data.userId,
    });
    ack({ ok: true, data: { task: { id: payload.taskId } } });
  });
});

http.listen(port, host, () => console.log(`baseline relay on http://${host}:${port}`));
process.on('SIGTERM', () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});

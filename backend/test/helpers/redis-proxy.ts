/** A real TCP proxy in front of Redis, to cut one replica off from Redis while others keep it. */
import {
  createServer,
  connect as tcpConnect,
  type Server,
  type Socket as TcpSocket,
} from 'node:net';

/** A TCP proxy to Redis that can cut every connection through it and refuse new ones. */
export async function redisProxy(redisUrl: string) {
  const target = new URL(redisUrl);
  const conns = new Set<TcpSocket>();
  let open = true;
  const server: Server = createServer((downstream) => {
    if (!open) {
      downstream.destroy();
      return;
    }
    const upstream = tcpConnect(Number(target.port), target.hostname);
    for (const s of [downstream, upstream]) {
      conns.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        conns.delete(s);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of conns) s.destroy();
    },
    restore() {
      open = true;
    },
    close() {
      open = false;
      for (const s of conns) s.destroy();
      server.close();
    },
  };
}

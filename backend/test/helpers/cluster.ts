/**
 * Real backend replicas as separate OS processes (node + tsx on the TypeScript sources), each on
 * its own free port, sharing one Redis and one FerretDB. Stopped by PID, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { TEST_JWT_SECRET } from './api.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(ROOT, 'backend/src/main.ts');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Replica {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly logs: LogLine[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode(): number | null | undefined;
  /** SIGTERM and wait (graceful shutdown). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: a crash, no goodbye. */
  kill9(): Promise<void>;
}

export async function startReplica(
  name: string,
  env: Record<string, string | undefined>,
): Promise<Replica> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      // Port 0: the replica binds a free port itself and says which in its "listening" line.
      // Picking one here and passing it on would race with other test files doing the same.
      PORT: '0',
      INSTANCE_ID: name,
      JWT_SECRET: TEST_JWT_SECRET,
      PASSWORD_HASH_COST: '10',
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let stderr = '';
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 30, msg: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const deadline = Date.now() + 30_000;
  let port = 0;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `replica ${name} exited during start-up (${child.exitCode}): ${stderr.slice(-2000)}`,
      );
    }
    const listening = logs.find(
      (l) => typeof l.port === 'number' && /listening/.test(String(l.msg)),
    );
    if (listening) {
      port = listening.port as number;
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`replica ${name} did not start within 30 s: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port}`;
  const health = await fetch(`${url}/healthz`).catch((err: unknown) => err as Error);
  if (health instanceof Error || !health.ok) {
    // Not usable: stop it here, since the caller never gets a handle to stop it with.
    child.kill('SIGKILL');
    await exited;
    throw new Error(
      `replica ${name} listens on ${port} but /healthz ${health instanceof Error ? `failed: ${health.message}` : `is ${health.status}`}`,
    );
  }
  const pid = child.pid ?? -1;
  return {
    name,
    url,
    port,
    pid,
    logs,
    exited,
    exitCode: () => child.exitCode,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A real Socket.IO client over a real WebSocket. */
export function socketFor(
  url: string,
  token: string,
  opts: { reconnection?: boolean } = {},
): Socket {
  return connect(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
}

export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
}

/** Emits with an acknowledgement and returns the ack ({ ok, data } or { ok: false, error }). */
export async function call(
  socket: Socket,
  event: string,
  payload?: unknown,
  timeoutMs = 5000,
): Promise<any> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload);
}

/** Collects every payload of `event` that reaches the socket. */
export function collect<T = any>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (p: T) => seen.push(p));
  return seen;
}

/** Polls `check` until it returns true or the time is up; returns how long it took. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

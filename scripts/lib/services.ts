/**
 * Starts the real services CollabFlow needs on this machine, on loopback ports, and stops exactly
 * the processes it started (by PID). Used by `npm start`, `npm run start:cluster`, `npm test`
 * (vitest global setup) and the fault tests, which stop and restart a service on purpose.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdirSync, openSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ManagedService {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal without waiting (SIGKILL for crash tests). */
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<number | null>;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${what} exited during start-up (code ${child.exitCode ?? child.signalCode})`,
      );
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function manage(name: string, port: number, url: string, child: ChildProcess): ManagedService {
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    port,
    url,
    pid,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function spawnLogged(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

export function redisServerPath(): string {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server'])
    if (existsSync(p)) return p;
  return 'redis-server';
}

export function ferretdbPath(): string {
  if (process.env.FERRETDB_BIN) return process.env.FERRETDB_BIN;
  let gopath = '';
  try {
    gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  } catch {
    gopath = join(process.env.HOME ?? '/root', 'go');
  }
  return join(gopath, 'bin', 'ferretdb');
}

export interface RedisTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** Debian's redis-server on loopback; with `tls`, TLS only (the URL is then `rediss://`). */
export async function startRedis(opts: {
  dataDir: string;
  port?: number;
  tls?: RedisTls;
}): Promise<ManagedService> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const listen = opts.tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        opts.tls.certFile,
        '--tls-key-file',
        opts.tls.keyFile,
        '--tls-ca-cert-file',
        opts.tls.caFile,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const child = spawnLogged(
    redisServerPath(),
    [
      ...listen,
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      opts.dataDir,
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
    ],
    join(opts.dataDir, `redis-${port}.log`),
  );
  await waitForPort(port, child, 'redis-server');
  return manage('redis', port, `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, child);
}

export async function startFerretDB(opts: {
  dataDir: string;
  port?: number;
}): Promise<ManagedService> {
  const port = opts.port ?? (await freePort());
  const bin = ferretdbPath();
  if (!existsSync(bin)) {
    throw new Error(`FerretDB is not installed at ${bin}; run: bash scripts/install-services.sh`);
  }
  const dataDir = join(opts.dataDir, 'sqlite');
  mkdirSync(dataDir, { recursive: true });
  const child = spawnLogged(
    bin,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      `--state-dir=${opts.dataDir}`,
      '--log-level=warn',
      '--log-format=text',
    ],
    join(opts.dataDir, `ferretdb-${port}.log`),
  );
  await waitForPort(port, child, 'ferretdb');
  return manage('ferretdb', port, `mongodb://127.0.0.1:${port}/`, child);
}

/**
 * Starts the real services CollabFlow needs on this machine, on loopback ports, and stops exactly
 * the processes it started (by PID). Used by `npm start`, `npm run start:cluster`, `npm test`
 * (vitest global setup), the benchmark and the fault tests, which stop and restart a service on
 * purpose.
 *
 * The database is FerretDB 1.24.2 with its PostgreSQL handler on Debian's PostgreSQL
 * (`startDatabase`): a cluster of our own, initialised in the data directory given, run as the
 * `postgres` user when we are root (the server refuses root), on loopback only. See
 * docs/storage.md.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';

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

/** A port held for a process that starts later: see `reservePort`. */
export interface ReservedPort {
  readonly port: number;
  /** Frees the port; call right before starting the process that listens on it. */
  release(): Promise<void>;
}

/** Ports the kernel never hands out for `listen(0)` or outgoing connections stay below this. */
const EPHEMERAL_LOW = 32768;

/**
 * A loopback port for a process that will listen on it a while from now (nginx, `next start`, a
 * stack told its ports): picked at random below the kernel's ephemeral range (32768-60999 by
 * default), so no `listen(0)` and no outgoing connection of any other test can take it, and held
 * by a listener of ours until `release()`, so another reservation cannot pick it meanwhile.
 * `freePort()` is fine only for a port bound at once: its number can be handed to anyone else as
 * soon as it returns.
 */
export async function reservePort(): Promise<ReservedPort> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (EPHEMERAL_LOW - 20_000));
    const srv = createServer();
    const held = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!held) continue;
    srv.unref();
    return {
      port,
      release: () => new Promise<void>((resolve) => srv.close(() => resolve())),
    };
  }
  throw new Error('no free loopback port below 32768 after 200 tries');
}

/**
 * A port for a service spawned right away: outside the ephemeral range (reservePort), so that
 * neither a `listen(0)` nor an outgoing connection of a test running meanwhile can take it
 * before the service binds it.
 */
async function servicePort(): Promise<number> {
  const held = await reservePort();
  await held.release();
  return held.port;
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

/**
 * Wraps a child process we started. `stop` sends the signals of `stopPlan` in order, each after
 * its delay (ms since stop was called) while the process still runs, and SIGKILL after `graceMs`.
 */
function manage(
  name: string,
  port: number,
  url: string,
  child: ChildProcess,
  stopPlan: Array<[NodeJS.Signals, number]> = [['SIGTERM', 0]],
): ManagedService {
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
      const running = () => child.exitCode === null && child.signalCode === null;
      if (!running()) return;
      const plan: Array<[NodeJS.Signals, number]> = [...stopPlan, ['SIGKILL', graceMs]];
      const timers = plan.map(([signal, afterMs]) =>
        setTimeout(() => {
          if (running()) child.kill(signal);
        }, afterMs),
      );
      await exited;
      for (const t of timers) clearTimeout(t);
    },
  };
}

function spawnLogged(
  cmd: string,
  args: string[],
  logFile: string,
  opts: { user?: OsUser; cwd?: string } = {},
): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      cwd: opts.cwd,
      // Node switches ids in the child before exec: the PID we hold is the program itself.
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
  } finally {
    closeSync(fd);
  }
}

/** The last lines of a log file, for error messages. */
function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
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
  const port = opts.port ?? (await servicePort());
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

/**
 * FerretDB 1.24.2 on loopback. With `postgresqlUrl` (what `startDatabase` passes), its PostgreSQL
 * handler on that database; without it, its SQLite handler with files in `dataDir/sqlite`.
 * `dataDir` holds its state file and log either way.
 */
export async function startFerretDB(opts: {
  dataDir: string;
  port?: number;
  postgresqlUrl?: string;
}): Promise<ManagedService> {
  const port = opts.port ?? (await servicePort());
  const bin = ferretdbPath();
  if (!existsSync(bin)) {
    throw new Error(`FerretDB is not installed at ${bin}; run: bash scripts/install-services.sh`);
  }
  mkdirSync(opts.dataDir, { recursive: true });
  let handler: string[];
  if (opts.postgresqlUrl) {
    handler = ['--handler=postgresql', `--postgresql-url=${opts.postgresqlUrl}`];
  } else {
    const sqliteDir = join(opts.dataDir, 'sqlite');
    mkdirSync(sqliteDir, { recursive: true });
    handler = ['--handler=sqlite', `--sqlite-url=file:${sqliteDir}/`];
  }
  const child = spawnLogged(
    bin,
    [
      ...handler,
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

// ---------- PostgreSQL ----------

interface OsUser {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
}

/**
 * The directory with PostgreSQL's server programs (postgres, initdb, psql): the newest
 * /usr/lib/postgresql/<version>/bin that has `postgres` (Debian's layout), else `pg_config
 * --bindir`.
 */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dir && existsSync(join(dir, 'postgres'))) return dir;
  } catch {
    /* no pg_config */
  }
  throw new Error(
    'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); run: bash scripts/install-services.sh',
  );
}

/** The server's version, e.g. "15.18", from `postgres --version`. */
export function postgresVersion(binDir = postgresBinDir()): string {
  const out = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  return /(\d+(?:\.\d+)*)/.exec(out)?.[1] ?? out.trim();
}

/**
 * Who runs the server: the `postgres` user when we are root (PostgreSQL refuses to run as root),
 * otherwise ourselves (undefined: no change of user).
 */
function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) =>
    execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split(/\s+/)
      .map(Number);
  try {
    return { name: 'postgres', uid: id('-u')[0]!, gid: id('-g')[0]!, groups: id('-G') };
  } catch {
    throw new Error(
      "PostgreSQL cannot run as root and there is no `postgres` user (Debian's postgresql package creates it); run: bash scripts/install-services.sh",
    );
  }
}

function isInside(child: string, parent: string): boolean {
  return child !== parent && child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/**
 * Makes sure `user` can reach `dir` (search permission on every directory above it). Directories
 * that we own and that lie in the temporary directory or were created by this start
 * (`createdFrom` and below) get the search bit for others (0o001: reach, not list); anything else
 * that blocks it is an error that says what to change.
 */
function ensureReachable(dir: string, user: OsUser, createdFrom: string | undefined) {
  const tmp = realpathSync(tmpdir());
  const created = createdFrom ? realpathSync(createdFrom) : undefined;
  let d = dirname(realpathSync(dir));
  for (;;) {
    const st = statSync(d);
    const bit =
      st.uid === user.uid
        ? 0o100
        : user.groups.includes(st.gid) || st.gid === user.gid
          ? 0o010
          : 0o001;
    if ((st.mode & bit) === 0) {
      const ours = st.uid === process.getuid?.();
      const createdNow = created !== undefined && (d === created || isInside(d, created));
      if (ours && bit === 0o001 && (isInside(d, tmp) || createdNow)) {
        chmodSync(d, (st.mode & 0o7777) | 0o001);
      } else {
        throw new Error(
          `PostgreSQL runs as the ${user.name} user, which cannot reach ${dir}: ${d} is not ` +
            `searchable by it (mode ${(st.mode & 0o777).toString(8)}). Allow it (chmod o+x ${d}), ` +
            'keep the data somewhere it can reach, or set MONGODB_URI to a MongoDB of your own.',
        );
      }
    }
    const up = dirname(d);
    if (up === d) return;
    d = up;
  }
}

/** Runs one PostgreSQL program to completion, output appended to `logFile`; rejects on failure. */
async function runPgTool(
  bin: string,
  args: string[],
  logFile: string,
  opts: { user?: OsUser; cwd?: string } = {},
): Promise<void> {
  const child = spawnLogged(bin, args, logFile, opts);
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (c) => done(c));
  });
  if (code !== 0) {
    throw new Error(
      `${bin.split('/').pop()} ${args.join(' ')} failed (code ${code}):\n${logTail(logFile)}`,
    );
  }
}

/** `psql -tAc <sql>` over the loopback port as the postgres role: its output, or the error. */
function psql(binDir: string, port: number, sql: string): Promise<string> {
  return new Promise((done, fail) => {
    const args = ['-X', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'];
    const child = spawn(join(binDir, 'psql'), [...args, '-d', 'postgres', '-tAc', sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0 ? done(out.trim()) : fail(new Error(err.trim() || `psql exited with ${code}`)),
    );
  });
}

export interface PostgresService extends ManagedService {
  /** The database FerretDB uses (created at start when missing). */
  readonly database: string;
  /** The server's version, e.g. "15.18". */
  readonly version: string;
}

/**
 * Debian's PostgreSQL on a free loopback port (TCP only, no Unix socket), with a cluster of its
 * own in `dataDir/cluster`, initialised there at first start (`initdb -A trust -U postgres`:
 * loopback only, no password). Run as the `postgres` user when we are root. For tests and the
 * local stack, durability is traded for speed: `fsync`, `synchronous_commit` and
 * `full_page_writes` are off, so a crash of the machine (not of the process) can lose or corrupt
 * the local data. Creates `database` (default `ferretdb`) when missing. `stop()` asks for a smart
 * shutdown (SIGTERM), then a fast one (SIGINT) after 2 s, then SIGKILL after the grace period.
 */
export async function startPostgres(opts: {
  dataDir: string;
  port?: number;
  database?: string;
}): Promise<PostgresService> {
  const binDir = postgresBinDir();
  const version = postgresVersion(binDir);
  const database = opts.database ?? 'ferretdb';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`bad database name ${database}`);
  const user = postgresOsUser();
  const dataDir = resolve(opts.dataDir);
  const createdFrom = mkdirSync(dataDir, { recursive: true });
  const cluster = join(dataDir, 'cluster');
  const port = opts.port ?? (await servicePort());
  const logFile = join(dataDir, `postgres-${port}.log`);
  if (!existsSync(join(cluster, 'PG_VERSION'))) {
    mkdirSync(cluster, { recursive: true });
    if (user) chownSync(cluster, user.uid, user.gid);
    chmodSync(cluster, 0o700);
  }
  if (user) ensureReachable(cluster, user, createdFrom);
  // Our own working directory may be out of the postgres user's reach; the cluster is not.
  const run = { user, cwd: cluster };
  if (!existsSync(join(cluster, 'PG_VERSION'))) {
    await runPgTool(
      join(binDir, 'initdb'),
      [
        '-D',
        cluster,
        '-A',
        'trust',
        '-U',
        'postgres',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      logFile,
      run,
    );
  }
  const child = spawnLogged(
    join(binDir, 'postgres'),
    [
      '-D',
      cluster,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      // No Unix socket: loopback TCP only (and no path-length limit on deep checkouts).
      '-k',
      '',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    logFile,
    run,
  );
  const service = manage(
    'postgres',
    port,
    `postgres://postgres@127.0.0.1:${port}/${database}`,
    child,
    [
      ['SIGTERM', 0],
      ['SIGINT', 2000],
    ],
  );
  try {
    await waitForPort(port, child, 'postgres');
    // Listening is not accepting: retry until start-up (recovery after a crash) is over.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const exists = await psql(
          binDir,
          port,
          `SELECT 1 FROM pg_database WHERE datname = '${database}'`,
        );
        if (exists !== '1') await psql(binDir, port, `CREATE DATABASE ${database}`);
        break;
      } catch (err) {
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null)
          throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await service.stop(5000);
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg}\n${logFile}:\n${logTail(logFile)}`);
  }
  return { ...service, database, version };
}

/** PostgreSQL and FerretDB on top of it, as `startDatabase` returns them. */
export interface Database {
  readonly postgres: PostgresService;
  readonly ferretdb: ManagedService;
  /** FerretDB's MongoDB URL without a database name (`mongodb://127.0.0.1:<port>/`). */
  readonly url: string;
  /** Both, in start order (PostgreSQL first); stop them in reverse, or call `stop()`. */
  readonly services: readonly ManagedService[];
  /** Stops FerretDB, then PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * The embedded database of the local stack, the tests and the benchmark: PostgreSQL in
 * `dataDir/postgres` and FerretDB 1.24.2 (PostgreSQL handler) in `dataDir/ferretdb`. If FerretDB
 * fails to start, PostgreSQL is stopped again before the error is thrown.
 */
export async function startDatabase(opts: {
  dataDir: string;
  /** FerretDB's port (PostgreSQL's is always a free one). */
  port?: number;
}): Promise<Database> {
  const postgres = await startPostgres({ dataDir: join(opts.dataDir, 'postgres') });
  let ferretdb: ManagedService;
  try {
    ferretdb = await startFerretDB({
      dataDir: join(opts.dataDir, 'ferretdb'),
      port: opts.port,
      postgresqlUrl: postgres.url,
    });
  } catch (err) {
    await postgres.stop();
    throw err;
  }
  return {
    postgres,
    ferretdb,
    url: ferretdb.url,
    services: [postgres, ferretdb],
    async stop() {
      await ferretdb.stop();
      await postgres.stop(10_000);
    },
  };
}

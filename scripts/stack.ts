/**
 * Runs CollabFlow's local stack on this machine and stops exactly what it started on Ctrl-C.
 *
 *   node --import tsx scripts/stack.ts single    # npm start: PostgreSQL + FerretDB, Redis, API on :4000,
 *                                                #   nginx on :3000 (web app + API, one origin)
 *   node --import tsx scripts/stack.ts cluster   # npm run start:cluster: replicas :4001/:4002,
 *                                                #   nginx on :8080 (web app + API, one origin)
 *
 * The browser talks to one origin, nginx (deploy/nginx/collabflow.conf): pages and /_next/ go
 * to the Next.js web app, which runs on an internal loopback port; /api, /socket.io, /healthz,
 * /readyz and /metrics go to the API. The web app runs when it is built
 * (frontend/.next/BUILD_ID; `npm start` builds it); without it, single mode runs the API alone
 * and cluster mode's nginx answers pages with a note on how to build it.
 *
 * The database is FerretDB 1.24.2 with its PostgreSQL handler on a PostgreSQL cluster of the
 * stack's own (.collabflow/data/postgres, run as the postgres user when started as root, fsync
 * off: see docs/storage.md). MONGODB_URI / REDIS_URL in the environment are used instead of
 * starting PostgreSQL and FerretDB / Redis. Data lives in .collabflow/data (git-ignored), logs in
 * .collabflow/logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startDatabase, startRedis, type ManagedService } from './lib/services.js';
import { nginxArgs, nginxBinary, renderNginxConf } from './lib/nginx.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STATE = join(ROOT, '.collabflow');
const LOGS = join(STATE, 'logs');
const WEB_DIR = join(ROOT, 'frontend');
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');
const BUILD_WEB = 'npm run build -w @collabflow/shared && npm run build -w @collabflow/frontend';
const DEMO_LOGIN = 'alice@demo.collabflow.test / collabflow-demo';
const mode = process.argv[2] === 'cluster' ? 'cluster' : 'single';

const say = (msg: string) => process.stdout.write(`[collabflow] ${msg}\n`);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function intFromEnv(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`[collabflow] ${name} must be a port number, got "${raw}"`);
    process.exit(1);
  }
  return n;
}

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

const children: Child[] = [];
const services: ManagedService[] = [];
/** A service start in flight: a Ctrl-C meanwhile waits for it, then stops what it started. */
let starting: Promise<unknown> | undefined;
let placeholder: Server | undefined;
let stopping = false;

/**
 * Starts a process; its output goes to .collabflow/logs/<name>.log, plain-text lines (and JSON
 * log lines of level warn and above) also to the terminal. With `quietStdout`, only its stderr
 * reaches the terminal.
 */
function run(
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { cwd?: string; quietStdout?: boolean } = {},
): Child {
  const log = createWriteStream(join(LOGS, `${name}.log`), { flags: 'a' });
  const proc = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (line.startsWith('{')) {
        try {
          const entry = JSON.parse(line) as { level?: number; msg?: string };
          if ((entry.level ?? 30) >= 40) process.stdout.write(`[${name}] ${entry.msg ?? line}\n`);
          continue;
        } catch {
          /* not JSON: show it */
        }
      }
      process.stdout.write(`[${name}] ${line}\n`);
    }
  };
  proc.stdout?.on('data', opts.quietStdout ? (chunk: Buffer) => log.write(chunk) : forward);
  proc.stderr?.on('data', forward);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const child = { name, proc, exited };
  children.push(child);
  void exited.then((code) => {
    if (!stopping) {
      say(
        `${name} exited unexpectedly (code ${code}); see ${join(LOGS, `${name}.log`)}. Stopping everything.`,
      );
      void shutdown(1);
    }
  });
  return child;
}

/** Polls `url` until it answers 2xx (or, with `anyAnswer`, anything below 500, redirects too). */
async function waitForHttp(url: string, what: string, timeoutMs = 60_000, anyAnswer = false) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url, { redirect: 'manual' });
      await res.body?.cancel();
      if (anyAnswer ? res.status < 500 : res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1000} s`);
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  for (const c of [...children].reverse()) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), 12_000);
    await c.exited;
    clearTimeout(timer);
  }
  placeholder?.closeAllConnections();
  placeholder?.close();
  await starting?.catch(() => undefined);
  for (const s of [...services].reverse()) await s.stop();
  say('stopped everything it started');
  process.exit(code);
}

/**
 * Stands in for the web app behind cluster mode's nginx when it is not built, so a browser gets
 * a page that says how to build it rather than nginx's 502.
 */
async function startPlaceholder(): Promise<string> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      `The CollabFlow web app is not built. Build it with\n\n  ${BUILD_WEB}\n\n` +
        'and start the stack again (npm start and npm run start:cluster build it for you).\n' +
        'The API is served here as usual: /api, /socket.io, /healthz, /readyz.\n',
    );
  });
  placeholder = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('placeholder: no address');
  return `127.0.0.1:${addr.port}`;
}

async function main() {
  mkdirSync(LOGS, { recursive: true });
  const apiPorts =
    mode === 'cluster'
      ? (process.env.CLUSTER_PORTS ?? '4001,4002').split(',').map((p) => Number(p.trim()))
      : [intFromEnv('PORT', 4000)];
  const hasWeb = existsSync(join(WEB_DIR, '.next/BUILD_ID'));
  if (!hasWeb) {
    say(
      `the web app is not built (no frontend/.next/BUILD_ID), running without it; build it with: ${BUILD_WEB}`,
    );
  }
  // The one origin the browser uses: nginx, in front of the web app and the API. Single mode
  // without a built web app runs the API alone, as it always did.
  const edgePort =
    mode === 'cluster'
      ? intFromEnv('NGINX_PORT', 8080)
      : hasWeb
        ? intFromEnv('WEB_PORT', 3000)
        : undefined;
  for (const p of [...apiPorts, ...(edgePort === undefined ? [] : [edgePort])]) {
    if (!Number.isInteger(p) || !(await portFree(p))) {
      throw new Error(
        `port ${p} is busy or invalid; free it or set ${mode === 'cluster' ? 'CLUSTER_PORTS / NGINX_PORT' : 'PORT / WEB_PORT'}`,
      );
    }
  }

  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    const dbStart = startDatabase({ dataDir: join(STATE, 'data') }).then((db) => {
      // Stopped in reverse: FerretDB, then PostgreSQL.
      services.push(...db.services);
      return db;
    });
    starting = dbStart;
    const db = await dbStart;
    if (stopping) return;
    mongoUri = `${db.url}collabflow`;
    say(
      `PostgreSQL ${db.postgres.version} (cluster in .collabflow/data/postgres) on 127.0.0.1:${db.postgres.port}, pid ${db.postgres.pid}`,
    );
    say(
      `FerretDB (MongoDB protocol, PostgreSQL handler) on 127.0.0.1:${db.ferretdb.port}, pid ${db.ferretdb.pid}`,
    );
  } else {
    say('using MONGODB_URI from the environment');
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const redisStart = startRedis({ dataDir: join(STATE, 'data/redis') }).then((r) => {
      services.push(r);
      return r;
    });
    starting = redisStart;
    const r = await redisStart;
    if (stopping) return;
    redisUrl = r.url;
    say(`Redis on 127.0.0.1:${r.port}, pid ${r.pid}`);
  } else {
    say('using REDIS_URL from the environment');
  }

  const backend = join(ROOT, 'backend/dist/main.js');
  if (!existsSync(backend))
    throw new Error('backend/dist/main.js is missing; run `npm run build` first');
  // The browser's origin is nginx's. Single mode without the web app keeps :3000 (the config
  // default) for a web app served some other way.
  const originPort = edgePort ?? intFromEnv('WEB_PORT', 3000);
  const origins = [`http://localhost:${originPort}`, `http://127.0.0.1:${originPort}`];
  apiPorts.forEach((port, i) => {
    const name = mode === 'cluster' ? `replica-${i + 1}` : 'api';
    run(name, process.execPath, [backend], {
      ...process.env,
      PORT: String(port),
      HOST: process.env.HOST ?? '127.0.0.1',
      MONGODB_URI: mongoUri,
      REDIS_URL: redisUrl,
      INSTANCE_ID: name,
      // The demo accounts' password is published: the API refuses them in production.
      SEED_DEMO:
        i === 0
          ? (process.env.SEED_DEMO ?? (process.env.NODE_ENV === 'production' ? 'false' : 'true'))
          : 'false',
      CORS_ORIGINS: process.env.CORS_ORIGINS ?? origins.join(','),
    });
  });

  // The web app (`next start`, run directly so the PID held here is the server itself) on an
  // internal loopback port; the browser reaches it through nginx only.
  let webAddress: string | undefined;
  if (hasWeb) {
    const port = await freePort();
    webAddress = `127.0.0.1:${port}`;
    const web = run(
      'web',
      process.execPath,
      [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'],
      // `next start` with NODE_ENV=development would run the production build in dev mode.
      { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
      // Its own banner names the internal port, which is not the one to open.
      { cwd: WEB_DIR, quietStdout: true },
    );
    say(`web app (Next.js) on ${webAddress} behind nginx, pid ${web.proc.pid}`);
  }

  // The first replica seeds the demo data; the others start once it is ready.
  await Promise.all([
    ...apiPorts.map((p) => waitForHttp(`http://127.0.0.1:${p}/readyz`, `API on :${p}`)),
    ...(webAddress ? [waitForHttp(`http://${webAddress}/`, 'web app', 120_000, true)] : []),
  ]);

  if (edgePort !== undefined) {
    const workDir = join(STATE, 'nginx');
    mkdirSync(workDir, { recursive: true });
    const conf = join(workDir, 'nginx.conf');
    writeFileSync(
      conf,
      renderNginxConf({
        upstreams: apiPorts.map((p) => `127.0.0.1:${p}`),
        webUpstreams: [webAddress ?? (await startPlaceholder())],
        listenPort: edgePort,
        workDir,
      }),
    );
    run('nginx', nginxBinary(), nginxArgs(conf, workDir), process.env);
    await waitForHttp(`http://127.0.0.1:${edgePort}/healthz`, 'nginx');
    if (webAddress) await waitForHttp(`http://127.0.0.1:${edgePort}/`, 'nginx', 60_000, true);
  }
  if (stopping) return;

  // One write, `ready` last: whoever waits for `ready` has every URL line by then.
  const api = `http://localhost:${apiPorts[0]}`;
  const edge = edgePort === undefined ? undefined : `http://localhost:${edgePort}`;
  const lines: string[] = [];
  if (edge && hasWeb) lines.push(`  web app      ${edge}   (log in as ${DEMO_LOGIN})`);
  if (mode === 'cluster') {
    lines.push(
      `  API          ${edge}/api   (through nginx with Socket.IO, sticky by client address; OpenAPI: /api/openapi.json)`,
    );
    apiPorts.forEach((p, i) => lines.push(`  replica ${i + 1}    http://localhost:${p}`));
  } else {
    lines.push(
      `  API          ${api}/api   (${edge ? `also ${edge}/api; ` : ''}OpenAPI: /api/openapi.json)`,
    );
  }
  lines.push(`  health       ${edge ?? api}/readyz   metrics: ${api}/metrics`);
  lines.push(`  logs         ${LOGS}`);
  lines.push('Ctrl-C stops everything this command started.');
  lines.push('ready');
  process.stdout.write(lines.map((l) => `[collabflow] ${l}\n`).join(''));
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((err: unknown) => {
  console.error(`[collabflow] ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});

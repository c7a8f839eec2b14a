/**
 * Runs CollabFlow's local stack on this machine and stops exactly what it started on Ctrl-C.
 *
 *   node --import tsx scripts/stack.ts single    # npm start: FerretDB, Redis, API on :4000
 *   node --import tsx scripts/stack.ts cluster   # npm run start:cluster: + replicas :4001/:4002, nginx :8080
 *
 * MONGODB_URI / REDIS_URL in the environment are used instead of starting FerretDB / Redis.
 * Data lives in .collabflow/data (git-ignored), logs in .collabflow/logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFerretDB, startRedis, type ManagedService } from './lib/services.js';
import { nginxArgs, nginxBinary, renderNginxConf } from './lib/nginx.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STATE = join(ROOT, '.collabflow');
const LOGS = join(STATE, 'logs');
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
let stopping = false;

/** Starts a process; its output goes to .collabflow/logs/<name>.log, plain-text lines also to the terminal. */
function run(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const log = createWriteStream(join(LOGS, `${name}.log`), { flags: 'a' });
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  proc.stdout?.on('data', forward);
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

async function waitForHttp(url: string, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url);
      if (res.ok) return;
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
  for (const s of [...services].reverse()) await s.stop();
  say('stopped everything it started');
  process.exit(code);
}

async function main() {
  mkdirSync(LOGS, { recursive: true });
  const apiPorts =
    mode === 'cluster'
      ? (process.env.CLUSTER_PORTS ?? '4001,4002').split(',').map((p) => Number(p.trim()))
      : [intFromEnv('PORT', 4000)];
  const nginxPort = intFromEnv('NGINX_PORT', 8080);
  const webPort = intFromEnv('WEB_PORT', 3000);
  const hasWeb = existsSync(join(ROOT, 'frontend/.next/BUILD_ID'));
  const wanted = [
    ...apiPorts,
    ...(mode === 'cluster' ? [nginxPort] : []),
    ...(hasWeb ? [webPort] : []),
  ];
  for (const p of wanted) {
    if (!Number.isInteger(p) || !(await portFree(p))) {
      throw new Error(
        `port ${p} is busy or invalid; free it or set PORT / CLUSTER_PORTS / NGINX_PORT / WEB_PORT`,
      );
    }
  }

  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    const f = await startFerretDB({ dataDir: join(STATE, 'data/ferretdb') });
    services.push(f);
    mongoUri = `${f.url}collabflow`;
    say(
      `FerretDB (MongoDB protocol, SQLite files in .collabflow/data/ferretdb) on 127.0.0.1:${f.port}, pid ${f.pid}`,
    );
  } else {
    say('using MONGODB_URI from the environment');
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const r = await startRedis({ dataDir: join(STATE, 'data/redis') });
    services.push(r);
    redisUrl = r.url;
    say(`Redis on 127.0.0.1:${r.port}, pid ${r.pid}`);
  } else {
    say('using REDIS_URL from the environment');
  }

  const backend = join(ROOT, 'backend/dist/main.js');
  if (!existsSync(backend))
    throw new Error('backend/dist/main.js is missing; run `npm run build` first');
  const origins = [`http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`];
  if (mode === 'cluster')
    origins.push(`http://localhost:${nginxPort}`, `http://127.0.0.1:${nginxPort}`);
  apiPorts.forEach((port, i) => {
    const name = mode === 'cluster' ? `replica-${i + 1}` : 'api';
    run(name, process.execPath, [backend], {
      ...process.env,
      PORT: String(port),
      HOST: process.env.HOST ?? '127.0.0.1',
      MONGODB_URI: mongoUri,
      REDIS_URL: redisUrl,
      INSTANCE_ID: name,
      SEED_DEMO: i === 0 ? (process.env.SEED_DEMO ?? 'true') : 'false',
      CORS_ORIGINS: process.env.CORS_ORIGINS ?? origins.join(','),
    });
  });
  // The first replica seeds the demo data; the others start once it is ready.
  await Promise.all(
    apiPorts.map((p) => waitForHttp(`http://127.0.0.1:${p}/readyz`, `API on :${p}`)),
  );

  if (mode === 'cluster') {
    const workDir = join(STATE, 'nginx');
    mkdirSync(workDir, { recursive: true });
    const conf = join(workDir, 'nginx.conf');
    writeFileSync(
      conf,
      renderNginxConf({
        upstreams: apiPorts.map((p) => `127.0.0.1:${p}`),
        listenPort: nginxPort,
        workDir,
      }),
    );
    run('nginx', nginxBinary(), nginxArgs(conf, workDir), process.env);
    await waitForHttp(`http://127.0.0.1:${nginxPort}/healthz`, 'nginx');
  }

  if (hasWeb) {
    const apiUrl =
      mode === 'cluster' ? `http://127.0.0.1:${nginxPort}` : `http://127.0.0.1:${apiPorts[0]}`;
    run(
      'web',
      'npm',
      [
        'run',
        'start',
        '-w',
        '@collabflow/frontend',
        '--',
        '-p',
        String(webPort),
        '-H',
        '127.0.0.1',
      ],
      {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        API_URL: apiUrl,
        NEXT_PUBLIC_API_URL: apiUrl,
      },
    );
    await waitForHttp(`http://127.0.0.1:${webPort}/`, 'web app', 120_000);
  }

  say('ready');
  if (hasWeb) say(`  web app      http://localhost:${webPort}`);
  if (mode === 'cluster') {
    say(
      `  via nginx    http://localhost:${nginxPort}   (API + Socket.IO, sticky by client address)`,
    );
    apiPorts.forEach((p, i) => say(`  replica ${i + 1}    http://localhost:${p}`));
  } else {
    say(`  API          http://localhost:${apiPorts[0]}/api   (OpenAPI: /api/openapi.json)`);
  }
  say(`  health       http://localhost:${apiPorts[0]}/readyz   metrics: /metrics`);
  say(`  logs         ${LOGS}`);
  say('Ctrl-C stops everything this command started.');
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((err: unknown) => {
  console.error(`[collabflow] ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});

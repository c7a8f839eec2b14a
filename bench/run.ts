/**
 * `npm run bench:chat`: a bounded load benchmark of two real CollabFlow replicas.
 *
 * It starts its own Redis and database (PostgreSQL + FerretDB with its PostgreSQL handler, loopback,
 * a temporary data dir), two backend replicas as
 * separate processes (`node --import tsx backend/src/main.ts`, nothing is built), registers users
 * over REST, puts them in one project, opens N Socket.IO clients (half on each replica) joined to
 * the project and #general, and then measures:
 *
 *   A. chat fan-out: M chat:message sends; latency from send to receipt at every client, split
 *      into same-replica and cross-replica receivers; delivered vs expected; acks per second.
 *   B. task moves:   K task:move sends; ack latency and broadcast latency at the other replica.
 *
 * plus RSS / heap / CPU of each replica before and after. It prints a table, writes JSON to
 * .collabflow/bench/result-<timestamp>.json and stops everything it started (by PID). It asserts
 * nothing about timing: these are numbers to read, not a test.
 *
 *   npm run bench:chat -- --clients 100 --messages 300 --moves 200 --senders 4 --movers 10
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDatabase, startRedis, type ManagedService } from '../scripts/lib/services.js';
import { mapLimit, request } from './lib/api.js';
import {
  DeliveryTracker,
  SeqWatch,
  openClient,
  type BenchClient,
  type FleetHooks,
} from './lib/fleet.js';
import {
  machineBusySeconds,
  sampleProcess,
  sampleResources,
  scrapeMetrics,
  socketEventProblems,
} from './lib/memory.js';
import { startReplica, type ExitInfo, type Replica } from './lib/replica.js';
import { cpuBetween, printReport, type Phase } from './lib/report.js';
import { runScenario } from './lib/scenario.js';
import { ratio, type Summary } from './lib/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------- options ----------
const { values: flags } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    messages: { type: 'string', default: '300' },
    moves: { type: 'string', default: '200' },
    senders: { type: 'string', default: '4' },
    movers: { type: 'string', default: '10' },
    'max-seconds': { type: 'string', default: '480' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    [
      'usage: npm run bench:chat -- [options]',
      '  --clients N      Socket.IO clients, half on each replica (default 100, min 2)',
      '  --messages M     chat messages in scenario A (default 300)',
      '  --moves K        task moves in scenario B (default 200)',
      '  --senders S      chat senders, each with one message in flight (default 4)',
      '  --movers T       task movers, each with one move in flight, one task each (default 10)',
      '  --max-seconds X  watchdog: stop everything and fail after X s (default 480)',
      '  --keep           keep the temporary data dir (replica, Redis, FerretDB and PostgreSQL logs)',
    ].join('\n'),
  );
  process.exit(0);
}
function intFlag(name: keyof typeof flags, min: number): number {
  const raw = flags[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench: --${name} must be an integer >= ${min} (got ${String(raw)})`);
    process.exit(2);
  }
  return n;
}
const CLIENTS = intFlag('clients', 2);
const MESSAGES = intFlag('messages', 1);
const MOVES = intFlag('moves', 1);
const SENDERS = Math.min(intFlag('senders', 1), CLIENTS);
const MOVERS = Math.min(intFlag('movers', 1), CLIENTS);
const MAX_SECONDS = intFlag('max-seconds', 30);

const ACK_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 20_000;
const SETUP_CONCURRENCY = 8;
const CONNECT_CONCURRENCY = 10;
const PASSWORD = 'bench-password-not-secret';
const STATUSES = ['todo', 'in-progress', 'review', 'done'] as const;

// ---------- progress ----------
const t0 = performance.now();
function log(line: string) {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[bench +${s}s] ${line}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- what we started, for teardown ----------
const started = {
  dir: undefined as string | undefined,
  services: [] as ManagedService[],
  replicas: [] as Replica[],
  clients: [] as BenchClient[],
};
let teardownPromise: Promise<Record<string, ExitInfo>> | undefined;

/**
 * Closes the clients, SIGTERMs the replicas (by PID), stops Redis, FerretDB and PostgreSQL, removes
 * the dir.
 */
function teardown(): Promise<Record<string, ExitInfo>> {
  teardownPromise ??= (async () => {
    for (const c of started.clients) c.socket.disconnect();
    const exits: Record<string, ExitInfo> = {};
    await Promise.all(
      started.replicas.map(async (r) => {
        exits[r.name] = await r.stop();
      }),
    );
    // Redis after the replicas (they say goodbye through it), then FerretDB, PostgreSQL last.
    for (const s of [...started.services].reverse()) await s.stop();
    if (started.dir) {
      if (flags.keep) log(`kept ${started.dir}`);
      else rmSync(started.dir, { recursive: true, force: true });
    }
    return exits;
  })();
  return teardownPromise;
}

function abort(why: string, code: number) {
  log(`${why}: stopping everything this benchmark started`);
  void teardown()
    .catch((err: unknown) => log(`teardown failed: ${String(err)}`))
    .finally(() => process.exit(code));
}
process.once('SIGINT', () => abort('interrupted', 130));
process.once('SIGTERM', () => abort('terminated', 143));
const watchdog = setTimeout(
  () => abort(`still running after ${MAX_SECONDS} s`, 1),
  MAX_SECONDS * 1000,
);
watchdog.unref();

// ---------- the run ----------
async function sampleAll(phase: string): Promise<Phase> {
  return {
    phase,
    samples: await Promise.all(started.replicas.map((r) => sampleResources(r))),
    services: started.services.map((s) => sampleProcess(s.name, s.pid)),
    benchCpuSeconds: cpuSeconds(process.cpuUsage()),
    machineBusySeconds: machineBusySeconds(),
    loadAvg1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

async function main() {
  if (!existsSync(join(ROOT, 'shared/dist/index.js'))) {
    throw new Error(
      'shared/dist is missing: the backend imports the built @collabflow/shared. Run `npm run build -w @collabflow/shared` once.',
    );
  }
  const startedAt = new Date();
  log(
    `CollabFlow benchmark: ${CLIENTS} clients, ${MESSAGES} chat messages (${SENDERS} senders), ` +
      `${MOVES} task moves (${MOVERS} movers), ${cpus().length} CPU cores`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'collabflow-bench-'));
  started.dir = dir;
  const db = await startDatabase({ dataDir: dir });
  started.services.push(...db.services);
  log(`PostgreSQL ${db.postgres.version} pid ${db.postgres.pid} on 127.0.0.1:${db.postgres.port}`);
  log(`FerretDB (PostgreSQL handler) pid ${db.ferretdb.pid} on 127.0.0.1:${db.ferretdb.port}`);
  const redis = await startRedis({ dataDir: join(dir, 'redis') });
  started.services.push(redis);
  log(`redis-server pid ${redis.pid} on 127.0.0.1:${redis.port}`);

  const lots = '1000000';
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    MONGODB_URI: `${db.url}collabflow_bench`,
    REDIS_URL: redis.url,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PASSWORD_HASH_COST: '10',
    LOG_LEVEL: 'warn',
    // The limiter must not cap the load we generate on purpose.
    RATE_LIMIT_SOCKET_MUTATIONS: lots,
    RATE_LIMIT_SOCKET_CHAT: lots,
    RATE_LIMIT_SOCKET_TYPING: lots,
    RATE_LIMIT_API_POINTS: lots,
    RATE_LIMIT_LOGIN_PER_IP: lots,
    RATE_LIMIT_LOGIN_PER_EMAIL: lots,
    // Many sockets from one address (and per user): the connection limits are not measured.
    RATE_LIMIT_SOCKET_HANDSHAKES: lots,
    MAX_SOCKETS_PER_USER: lots,
    MAX_SSE_PER_USER: lots,
  };
  // One after the other: the first creates the collections and indexes on the empty database.
  for (const name of ['r1', 'r2']) {
    const r = await startReplica({ name, root: ROOT, logDir: dir, env });
    started.replicas.push(r);
    log(`replica ${name} pid ${r.pid} ready on ${r.url}`);
  }
  const [r1, r2] = started.replicas as [Replica, Replica];
  const urlOf = (i: number) => (i % 2 === 0 ? r1.url : r2.url);
  await sleep(1000);
  const phases: Phase[] = [await sampleAll('idle')];

  // ---------- setup: users, project, members, tasks ----------
  const setupStart = performance.now();
  const run = randomBytes(3).toString('hex');
  const users = await mapLimit(
    Array.from({ length: CLIENTS }, (_, i) => i),
    SETUP_CONCURRENCY,
    async (i) => {
      const email = `bench-${run}-${i}@bench.collabflow.test`;
      const res = await request<{ token: string; user: { id: string } }>(
        urlOf(i),
        'POST',
        '/api/auth/register',
        { body: { email, password: PASSWORD, name: `Bench ${i}` } },
      );
      if ((i + 1) % 25 === 0) log(`registered ${i + 1}/${CLIENTS} users`);
      return { email, token: res.token, id: res.user.id };
    },
  );
  const owner = users[0]!;
  const { project } = await request<{ project: { id: string } }>(r1.url, 'POST', '/api/projects', {
    token: owner.token,
    body: { name: `Bench ${run}`, description: 'npm run bench' },
  });
  await mapLimit(users.slice(1), SETUP_CONCURRENCY, (u, i) =>
    request(urlOf(i), 'POST', `/api/projects/${project.id}/members`, {
      token: owner.token,
      body: { email: u.email, role: 'member' },
    }),
  );
  const { channels } = await request<{ channels: { id: string; name: string }[] }>(
    r1.url,
    'GET',
    `/api/projects/${project.id}/channels`,
    { token: owner.token },
  );
  const general = channels.find((c) => c.name === 'general');
  if (!general) throw new Error('the project has no #general channel');
  // Concurrent creates in one column race for the end-of-column position; the server retries
  // the losers with back-off, so these all succeed.
  const tasks = await mapLimit(
    Array.from({ length: MOVERS }, (_, k) => k),
    8,
    async (k) =>
      (
        await request<{ task: { id: string; status: string } }>(
          urlOf(k),
          'POST',
          `/api/projects/${project.id}/tasks`,
          { token: owner.token, body: { title: `Bench task ${k}`, status: 'todo' } },
        )
      ).task,
  );
  const setupMs = performance.now() - setupStart;
  log(
    `set up ${CLIENTS} users, project ${project.id} with ${CLIENTS} members, ${MOVERS} tasks in ${(setupMs / 1000).toFixed(1)} s`,
  );

  // ---------- clients ----------
  const hooks: FleetHooks = { seq: new SeqWatch(CLIENTS), disconnects: [] };
  const connectStart = performance.now();
  const clients = await mapLimit(
    Array.from({ length: CLIENTS }, (_, i) => i),
    CONNECT_CONCURRENCY,
    async (i) => {
      const c = await openClient({
        index: i,
        replica: i % 2,
        url: urlOf(i),
        token: users[i]!.token,
        projectId: project.id,
        channelId: general.id,
        hooks,
        timeoutMs: CONNECT_TIMEOUT_MS,
      });
      started.clients.push(c);
      if ((i + 1) % 25 === 0) log(`connected and joined ${i + 1}/${CLIENTS} clients`);
      return c;
    },
  );
  const connectMs = performance.now() - connectStart;
  log(
    `${CLIENTS} WebSocket clients joined (${clients.filter((c) => c.replica === 0).length} on r1, ` +
      `${clients.filter((c) => c.replica === 1).length} on r2) in ${(connectMs / 1000).toFixed(1)} s`,
  );
  await sleep(1000); // let the user:joined fan-out of the joins settle
  phases.push(await sampleAll('connected'));
  const replicaOf = clients.map((c) => c.replica);

  // ---------- A: chat fan-out ----------
  log(`[chat] ${MESSAGES} messages from ${SENDERS} senders, each with one message in flight`);
  hooks.chat = new DeliveryTracker(replicaOf);
  const cpuA = process.cpuUsage();
  const chat = await runScenario({
    name: 'chat',
    total: MESSAGES,
    workers: clients.slice(0, SENDERS),
    tracker: hooks.chat,
    seq: hooks.seq,
    build: (n) => ({
      event: 'chat:message',
      payload: { channelId: general.id, content: `bench message ${n} ${'x'.repeat(60)}` },
    }),
    ackTimeoutMs: ACK_TIMEOUT_MS,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    progress: log,
  });
  const benchCpuChat = cpuSeconds(process.cpuUsage(cpuA));
  hooks.chat = undefined;
  phases.push(await sampleAll('after-chat'));

  // ---------- B: task moves ----------
  log(`[moves] ${MOVES} task moves from ${MOVERS} movers, one task and one move in flight each`);
  const statusOf = tasks.map((t) => t.status);
  hooks.moves = new DeliveryTracker(replicaOf);
  const cpuB = process.cpuUsage();
  const moves = await runScenario({
    name: 'moves',
    total: MOVES,
    workers: clients.slice(0, MOVERS),
    tracker: hooks.moves,
    seq: hooks.seq,
    build: (_n, worker) => {
      const k = worker.index;
      const from = statusOf[k] ?? 'todo';
      const to = STATUSES[(STATUSES.indexOf(from as (typeof STATUSES)[number]) + 1) % 4]!;
      return {
        event: 'task:move',
        payload: {
          projectId: project.id,
          taskId: tasks[k]!.id,
          fromStatus: from,
          toStatus: to,
          newIndex: 0,
        },
      };
    },
    onAck: (_n, worker, data: { task?: { status?: string } }) => {
      if (data.task?.status) statusOf[worker.index] = data.task.status;
    },
    ackTimeoutMs: ACK_TIMEOUT_MS,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    progress: log,
  });
  const benchCpuMoves = cpuSeconds(process.cpuUsage(cpuB));
  hooks.moves = undefined;
  phases.push(await sampleAll('after-moves'));

  // ---------- what the replicas counted, then stop ----------
  const socketProblems: Record<string, Record<string, number>> = {};
  for (const r of started.replicas) {
    socketProblems[r.name] = await scrapeMetrics(r.url)
      .then(socketEventProblems)
      .catch(() => ({ scrape: -1 }));
  }
  const disconnects = [...hooks.disconnects];
  const aliveBeforeStop = Object.fromEntries(started.replicas.map((r) => [r.name, r.alive()]));
  log('stopping clients, replicas (SIGTERM), Redis, FerretDB and PostgreSQL');
  const exits = await teardown();
  log(
    `stopped: ${Object.entries(exits)
      .map(([n, e]) => `${n} exit ${e.code ?? e.signal}`)
      .join(', ')}`,
  );

  // ---------- report ----------
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemMiB: Math.round(totalmem() / 1024 / 1024),
      kernel: release(),
      node: process.version,
    },
    options: {
      clients: CLIENTS,
      messages: MESSAGES,
      moves: MOVES,
      senders: SENDERS,
      movers: MOVERS,
    },
    setup: { setupMs: Math.round(setupMs), connectMs: Math.round(connectMs) },
    scenarios: { chat, moves },
    ratios: {
      'chat send->receipt': ratios(chat.latencyMs.crossReplica, chat.latencyMs.sameReplica),
      'moves send->receipt': ratios(moves.latencyMs.crossReplica, moves.latencyMs.sameReplica),
      'chat fan-out delay': ratios(chat.fanOutDelayMs.crossReplica, chat.fanOutDelayMs.sameReplica),
      'moves fan-out delay': ratios(
        moves.fanOutDelayMs.crossReplica,
        moves.fanOutDelayMs.sameReplica,
      ),
    },
    benchProcessCpuSeconds: { chat: benchCpuChat, moves: benchCpuMoves },
    resources: phases,
    cpuByPhase: phases.slice(1).map((p, i) => cpuBetween(phases[i]!, p)),
    problems: {
      clientDisconnectsDuringRun: disconnects,
      socketEventOutcomesNotOk: socketProblems,
      replicasAliveAtEnd: aliveBeforeStop,
      replicaExit: exits,
      replicaLogWarnOrWorse: Object.fromEntries(
        started.replicas.map((r) => [
          r.name,
          { count: r.problemCount(), first: r.problems.slice(0, 20) },
        ]),
      ),
    },
  };
  printReport(result, phases, started.replicas, CLIENTS);
  const outDir = join(ROOT, '.collabflow/bench');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `result-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${relative(ROOT, file)}`);
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return Math.round((u.user + u.system) / 10_000) / 100;
}

function ratios(cross: Summary | null, same: Summary | null) {
  return {
    p50: ratio(cross?.p50, same?.p50),
    p95: ratio(cross?.p95, same?.p95),
    p99: ratio(cross?.p99, same?.p99),
    max: ratio(cross?.max, same?.max),
  };
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    for (const r of started.replicas)
      for (const p of r.problems.slice(0, 10))
        log(`  ${r.name}: ${JSON.stringify(p).slice(0, 400)}`);
    abort('benchmark failed', 1);
  },
);

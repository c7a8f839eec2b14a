/**
 * `npm run bench`: CollabFlow against the minimal relay of `bench/baseline/server.ts` (issue 7),
 * both running at once on this machine (two replicas + Redis each; CollabFlow also PostgreSQL +
 * FerretDB), scenario by scenario, baseline first, so every figure has a CollabFlow ÷ baseline
 * ratio. Clients run in forked fleet processes (`bench/lib/fleet-proc.ts`) that report their own
 * CPU; server CPU counts every server process (replicas, Redis, FerretDB, PostgreSQL with its
 * backends), read from /proc. Writes JSON and an SVG chart (latency percentiles against update
 * rate) to .collabflow/bench/. See docs/performance.md.
 *
 *   npm run bench                        # everything, defaults (about 8 minutes on 2 cores)
 *   npm run bench -- --quick             # smaller and shorter
 *   npm run bench -- --scenarios connect,fanout --systems collabflow
 *   npm run bench:chat                   # the older chat/moves benchmark (bench/run.ts)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { startDatabase, startRedis, type ManagedService } from '../scripts/lib/services.js';
import { mapLimit, request } from './lib/api.js';
import type { ClientSpec, SendKind } from './lib/fleet-proc.js';
import { machineBusySeconds, scrapeMetrics, treeCpuSeconds, vmRssBytes } from './lib/memory.js';
import { startReplica, type Replica } from './lib/replica.js';
import { ratio, summarize } from './lib/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIOS = ['connect', 'fanout', 'ramp', 'writers', 'memory'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
type SystemName = 'baseline' | 'collabflow';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    systems: { type: 'string', default: 'baseline,collabflow' },
    receivers: { type: 'string' },
    'fanout-seconds': { type: 'string' },
    rate: { type: 'string', default: '50' },
    memory: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'open-seconds': { type: 'string' },
    'max-seconds': { type: 'string', default: '1500' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    [
      'usage: npm run bench -- [options]',
      `  --scenarios LIST     any of ${SCENARIOS.join(',')} (default: all)`,
      '  --systems LIST       baseline,collabflow (default: both; ratios need both)',
      '  --quick              200 receivers, 5 s fan-out, shorter ramp and writers, memory at 500,1000',
      '  --receivers N        fan-out receivers and connect clients (default 1000)',
      '  --fanout-seconds S   length of each fan-out run (default 20)',
      '  --rate R             fan-out updates per second (default 50)',
      '  --memory A,B         idle connection counts (default 2000,5000)',
      '  --cpu-prof           run CollabFlow replica r1 with --cpu-prof and summarise the profile',
      '  --open-seconds S     stop starting new connections after S s per connect step (default 120)',
      '  --max-seconds X      watchdog (default 1500)',
      '  --keep               keep the temporary data directories (logs)',
    ].join('\n'),
  );
  process.exit(0);
}
const QUICK = flags.quick;
const RECEIVERS = Number(flags.receivers ?? (QUICK ? 200 : 1000));
const FANOUT_S = Number(flags['fanout-seconds'] ?? (QUICK ? 5 : 20));
const RATE = Number(flags.rate);
const MEMORY = (flags.memory ?? (QUICK ? '500,1000' : '2000,5000')).split(',').map(Number);
const RAMP = QUICK ? [25, 100, 400] : [10, 25, 50, 100, 200, 400, 800, 1600];
const RAMP_S = QUICK ? 3 : 5;
const WRITERS_S = QUICK ? 4 : 8;
const SENDERS = 50;
const ACK_TIMEOUT_MS = 10_000;
/** Connecting stops starting new clients after this long (connect scenario, each memory step). */
const OPEN_DEADLINE_S = Number(flags['open-seconds'] ?? (QUICK ? 30 : 120));
const wanted = new Set(flags.scenarios.split(',') as ScenarioName[]);
const systems = flags.systems.split(',') as SystemName[];
for (const s of wanted)
  if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (known: ${SCENARIOS})`);
for (const v of [RECEIVERS, FANOUT_S, RATE, ...MEMORY])
  if (!Number.isFinite(v) || v <= 0) throw new Error('bench: numeric flags must be positive');

// ---------- progress and teardown ----------
const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1);
function log(line: string) {
  process.stdout.write(`[bench +${elapsed().padStart(6)}s] ${line}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (n: number) => Math.round(n * 100) / 100;

const cleanup: (() => Promise<void>)[] = [];
let tornDown: Promise<void> | undefined;
function teardown() {
  tornDown ??= (async () => {
    for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
  })();
  return tornDown;
}
function abort(why: string, code: number) {
  log(`${why}: stopping everything this benchmark started`);
  void teardown().finally(() => process.exit(code));
}
process.once('SIGINT', () => abort('interrupted', 130));
process.once('SIGTERM', () => abort('terminated', 143));
setTimeout(
  () => abort(`still running after ${flags['max-seconds']} s`, 1),
  Number(flags['max-seconds']) * 1000,
).unref();

// ---------- fleets (client processes) ----------
class Fleet {
  progress = 0;
  /** The fleet's own CPU ms since it started, as of its latest answer. */
  cpuMs = 0;
  private next = 0;
  private readonly waiting = new Map<number, (m: any) => void>();
  private readonly child: ChildProcess;
  constructor(readonly name: string) {
    this.child = fork(join(ROOT, 'bench/lib/fleet-proc.ts'), [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: any) => {
      if (typeof m.progress === 'number') this.progress = m.progress;
      else this.waiting.get(m.id)?.(m);
    });
    cleanup.push(() => this.stop());
  }
  call(cmd: string, args: Record<string, unknown> = {}): Promise<any> {
    const id = this.next++;
    this.progress = 0;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => {
        this.waiting.delete(id);
        this.cpuMs = m.cpuMs;
        if (m.ok) resolve(m);
        else reject(new Error(`${this.name} ${cmd}: ${m.error}`));
      });
      this.child.send({ id, cmd, ...args });
    });
  }
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([gone, sleep(3000)]);
  }
}

/** Runs `fn` while printing one progress line every 2 s. */
async function withProgress<T>(label: string, fleets: Fleet[], of: number, fn: () => Promise<T>) {
  const start = performance.now();
  const tick = setInterval(() => {
    const done = fleets.reduce((a, f) => a + f.progress, 0);
    const n = of > 0 ? `${done}/${of}` : `${done} acked`;
    log(`  ${label}: ${n} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }, 2000);
  try {
    return await fn();
  } finally {
    clearInterval(tick);
  }
}

// ---------- the two systems ----------
interface System {
  name: SystemName;
  replicas: Replica[];
  services: ManagedService[];
  projectId: string;
  channelId?: string;
  taskIds: string[];
  tokens: string[]; // receivers
  senderTokens: string[];
  receivers: Fleet[];
  senders?: Fleet;
  opened: number;
}

function serverCpuSeconds(sys: System): number {
  let total = 0;
  for (const p of [...sys.replicas, ...sys.services]) total += treeCpuSeconds(p.pid) ?? 0;
  return total;
}

/** CPU seconds so far by kind of server process (replicas together, then each service). */
function serverCpuByProcess(sys: System): Record<string, number> {
  const out: Record<string, number> = { replicas: 0 };
  for (const r of sys.replicas) out.replicas! += treeCpuSeconds(r.pid) ?? 0;
  for (const p of sys.services) out[p.name] = (out[p.name] ?? 0) + (treeCpuSeconds(p.pid) ?? 0);
  return out;
}

/** Where the server CPU of a phase went: ms per unit, by process kind. */
function cpuSplit(before: Record<string, number>, after: Record<string, number>, units: number) {
  return Object.fromEntries(
    Object.keys(after).map((k) => [
      k,
      r2(((after[k]! - (before[k] ?? 0)) * 1000) / Math.max(1, units)),
    ]),
  );
}

/** startReplica, tried up to three times: a free port can be taken by another process meanwhile. */
async function startWithRetry(opts: Parameters<typeof startReplica>[0]): Promise<Replica> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startReplica(opts);
    } catch (err) {
      if (attempt >= 3) throw err;
      log(`${opts.name} did not start (${String(err).slice(0, 120)}), retrying`);
    }
  }
}

const GC_ARGS = ['--expose-gc', '--import', join(ROOT, 'bench/lib/gc-on-signal.ts')];

async function startBaseline(): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-bench-baseline-'));
  cleanup.push(async () => (flags.keep ? log(`kept ${dir}`) : rmSync(dir, { recursive: true })));
  const redis = await startRedis({ dataDir: join(dir, 'redis') });
  cleanup.push(() => redis.stop());
  const secret = randomBytes(32).toString('hex');
  const replicas: Replica[] = [];
  for (const name of ['b1', 'b2']) {
    const r = await startWithRetry({
      name,
      root: ROOT,
      logDir: dir,
      entry: 'bench/baseline/server.ts',
      nodeArgs: GC_ARGS,
      env: { REDIS_URL: redis.url, JWT_SECRET: secret },
    });
    cleanup.push(async () => void (await r.stop()));
    replicas.push(r);
  }
  const token = (i: number) => jwt.sign({ sub: `user-${i}` }, secret, { expiresIn: '1h' });
  log(`baseline: relay replicas pid ${replicas.map((r) => r.pid)} + redis pid ${redis.pid}`);
  return {
    name: 'baseline',
    replicas,
    services: [redis],
    projectId: 'bench-project',
    taskIds: Array.from({ length: SENDERS }, (_, k) => `task-${k}`),
    tokens: Array.from({ length: RECEIVERS }, (_, i) => token(i)),
    senderTokens: Array.from({ length: SENDERS }, (_, i) => token(RECEIVERS + i)),
    receivers: [],
    opened: 0,
  };
}

async function startCollabFlow(): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-bench-'));
  cleanup.push(async () => (flags.keep ? log(`kept ${dir}`) : rmSync(dir, { recursive: true })));
  const db = await startDatabase({ dataDir: dir });
  cleanup.push(() => db.stop());
  const redis = await startRedis({ dataDir: join(dir, 'redis') });
  cleanup.push(() => redis.stop());
  const lots = '1000000';
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    MONGODB_URI: `${db.url}collabflow_bench`,
    REDIS_URL: redis.url,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PASSWORD_HASH_COST: '10',
    LOG_LEVEL: 'warn',
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
  const replicas: Replica[] = [];
  for (const name of ['r1', 'r2']) {
    const prof =
      flags['cpu-prof'] && name === 'r1' ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [];
    const r = await startWithRetry({
      name,
      root: ROOT,
      logDir: dir,
      env,
      nodeArgs: [...GC_ARGS, ...prof],
    });
    cleanup.push(async () => void (await r.stop()));
    replicas.push(r);
  }
  log(
    `collabflow: replicas pid ${replicas.map((r) => r.pid)}, redis ${redis.pid}, ` +
      `PostgreSQL ${db.postgres.pid}, FerretDB ${db.ferretdb.pid}; registering users`,
  );
  const url = (i: number) => replicas[i % 2]!.url;
  const run = randomBytes(3).toString('hex');
  const total = RECEIVERS + SENDERS;
  const setupStart = performance.now();
  const users = await mapLimit(
    Array.from({ length: total }, (_, i) => i),
    8,
    async (i) => {
      const email = `bench-${run}-${i}@bench.collabflow.test`;
      const res = await request<{ token: string }>(url(i), 'POST', '/api/auth/register', {
        body: { email, password: 'bench-password-not-secret', name: `Bench ${i}` },
      });
      if ((i + 1) % 200 === 0) log(`  collabflow setup: registered ${i + 1}/${total} users`);
      return { email, token: res.token };
    },
  );
  const owner = users[total - 1]!;
  const { project } = await request<{ project: { id: string } }>(url(0), 'POST', '/api/projects', {
    token: owner.token,
    body: { name: `Bench ${run}`, description: 'npm run bench' },
  });
  await mapLimit(users.slice(0, total - 1), 8, async (u, i) => {
    await request(url(i), 'POST', `/api/projects/${project.id}/members`, {
      token: owner.token,
      body: { email: u.email, role: 'member' },
    });
    if ((i + 1) % 200 === 0) log(`  collabflow setup: added ${i + 1}/${total - 1} members`);
  });
  const { channels } = await request<{ channels: { id: string; name: string }[] }>(
    url(0),
    'GET',
    `/api/projects/${project.id}/channels`,
    { token: owner.token },
  );
  const tasks = await mapLimit(
    Array.from({ length: SENDERS }, (_, k) => k),
    4,
    async (k) =>
      (
        await request<{ task: { id: string } }>(
          url(k),
          'POST',
          `/api/projects/${project.id}/tasks`,
          { token: owner.token, body: { title: `Bench task ${k}`, status: 'todo' } },
        )
      ).task.id,
  );
  log(`collabflow: set up ${total} members and ${SENDERS} tasks in ${s(setupStart)} s`);
  return {
    name: 'collabflow',
    replicas,
    services: [redis, ...db.services],
    projectId: project.id,
    channelId: channels.find((c) => c.name === 'general')?.id,
    taskIds: tasks,
    tokens: users.slice(0, RECEIVERS).map((u) => u.token),
    senderTokens: users.slice(RECEIVERS).map((u) => u.token),
    receivers: [],
    opened: 0,
  };
}
const s = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

/** Waits (at most 20 s) until the servers use less than a fifth of a core: no backlog. */
async function settle(sys: System) {
  for (let i = 0; i < 20; i++) {
    const a = serverCpuSeconds(sys);
    await sleep(1000);
    if (serverCpuSeconds(sys) - a < 0.2) return;
  }
  log(`  ${sys.name}: servers still busy after 20 s, going on`);
}

const specs = (sys: System, tokens: string[], from = 0): ClientSpec[] =>
  tokens.map((token, i) => ({
    url: sys.replicas[(from + i) % 2]!.url,
    token,
    replica: (from + i) % 2,
  }));

// ---------- scenarios ----------
async function connect(sys: System) {
  await settle(sys);
  sys.receivers = [new Fleet(`${sys.name}-rx0`), new Fleet(`${sys.name}-rx1`)];
  const all = specs(sys, sys.tokens);
  const half = Math.ceil(all.length / 2);
  const parts = [all.slice(0, half), all.slice(half)];
  const cpu0 = serverCpuSeconds(sys);
  const split0 = serverCpuByProcess(sys);
  const start = performance.now();
  const res = await withProgress(`${sys.name} connect`, sys.receivers, all.length, () =>
    Promise.all(
      sys.receivers.map((f, k) =>
        f.call('open', {
          clients: parts[k],
          projectId: sys.projectId,
          concurrency: 50,
          listen: true,
          timeoutMs: 30_000,
          deadlineMs: OPEN_DEADLINE_S * 1000,
        }),
      ),
    ),
  );
  const wall = (performance.now() - start) / 1000;
  const cpu = serverCpuSeconds(sys) - cpu0;
  const split1 = serverCpuByProcess(sys);
  sys.opened = res.reduce((a, r) => a + r.opened, 0);
  const failures: Record<string, number> = {};
  for (const r of res)
    for (const [k, v] of Object.entries(r.failures as Record<string, number>))
      failures[k] = (failures[k] ?? 0) + v;
  sys.senders = new Fleet(`${sys.name}-tx`);
  await sys.senders.call('open', {
    clients: specs(sys, sys.senderTokens),
    projectId: sys.projectId,
    concurrency: 10,
    listen: false,
    timeoutMs: 30_000,
  });
  return {
    clients: all.length,
    joined: sys.opened,
    notTried: res.reduce((a, r) => a + r.notTried, 0),
    failures,
    seconds: r2(wall),
    handshakesPerSecond: r2(sys.opened / wall),
    serverCpuMsPerHandshake: r2((cpu * 1000) / Math.max(1, sys.opened)),
    serverCpuMsPerHandshakeBy: cpuSplit(split0, split1, sys.opened),
    clientCpuMs: r2(res.reduce((a, r) => a + r.cpuMs, 0)),
  };
}

async function ensureConnected(sys: System) {
  if (sys.senders) return;
  log(`${sys.name}: connecting ${RECEIVERS} receivers and ${SENDERS} senders (not measured)`);
  await connect(sys);
}

/** One open-loop run of `task:update` (or other kind) at `rate`/s, with deliveries collected. */
async function openRun(
  sys: System,
  label: string,
  o: { kind: SendKind; rate: number; seconds: number; tasks: string[] },
) {
  await settle(sys);
  await Promise.all(sys.receivers.map((f) => f.call('collect')));
  const clientCpu0 = clientCpu(sys);
  const cpu0 = serverCpuSeconds(sys);
  const split0 = serverCpuByProcess(sys);
  const total = Math.round(o.rate * o.seconds);
  const sent = await withProgress(`${sys.name} ${label} acks`, [sys.senders!], total, () =>
    sys.senders!.call('openLoop', {
      kind: o.kind,
      rate: o.rate,
      durationMs: o.seconds * 1000,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      projectId: sys.projectId,
      channelId: sys.channelId,
      taskIds: o.tasks,
    }),
  );
  await sleep(2000); // deliveries still in flight after the last ack
  const cpu = serverCpuSeconds(sys) - cpu0;
  // Server CPU ms per update sent, by process kind (replicas, redis, ferretdb, postgres).
  const serverCpuMsPerSendBy = cpuSplit(split0, serverCpuByProcess(sys), total);
  return { ...(await deliveries(sys, sent, clientCpu0)), serverCpuS: cpu, serverCpuMsPerSendBy };
}

/** CPU ms of the sender fleet and of the receiver fleets, as of their latest answers. */
function clientCpu(sys: System) {
  return {
    senders: sys.senders?.cpuMs ?? 0,
    receivers: sys.receivers.reduce((a, f) => a + f.cpuMs, 0),
  };
}

async function deliveries(sys: System, sent: any, before: ReturnType<typeof clientCpu>) {
  const got = await Promise.all(sys.receivers.map((f) => f.call('collect')));
  const same: number[] = [];
  const cross: number[] = [];
  const counts = new Map<string, number>();
  for (const g of got) {
    for (const v of g.same as Float64Array) same.push(v);
    for (const v of g.cross as Float64Array) cross.push(v);
    for (const [k, v] of Object.entries(g.counts as Record<string, number>))
      counts.set(k, (counts.get(k) ?? 0) + v);
  }
  const okIds = sent.okIds as string[];
  let deliveredOfOk = 0;
  for (const id of okIds) deliveredOfOk += counts.get(id) ?? 0;
  const expected = okIds.length * sys.opened;
  const unanswered = (sent.errors as Record<string, number>).unanswered ?? 0;
  const errorAcks = Object.entries(sent.errors as Record<string, number>)
    .filter(([k]) => k !== 'unanswered')
    .reduce((a, [, v]) => a + v, 0);
  const allDelivered = [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    sent: sent.sent as number,
    ackedOk: okIds.length,
    errorAcks,
    errorsByCode: sent.errors as Record<string, number>,
    unanswered,
    ack: summarize(Array.from(sent.ackMs as Float64Array)),
    throughputPerSecond: r2(okIds.length / (sent.sendSeconds as number)),
    expectedDeliveries: expected,
    delivered: allDelivered,
    lostPercent: expected === 0 ? null : r2((100 * (expected - deliveredOfOk)) / expected),
    latency: {
      all: summarize([...same, ...cross]),
      sameReplica: summarize(same),
      crossReplica: summarize(cross),
    },
    senderCpuMs: r2((sent.cpuMs as number) - before.senders),
    receiverCpuMs: r2(got.reduce((a, g) => a + g.cpuMs, 0) - before.receivers),
  };
}

async function fanout(sys: System) {
  await ensureConnected(sys);
  const out: Record<string, unknown> = {};
  for (const [name, tasks] of [
    ['hot', sys.taskIds.slice(0, 1)],
    ['spread', sys.taskIds.slice(0, 50)],
  ] as const) {
    log(`${sys.name} fanout ${name}: ${RATE}/s for ${FANOUT_S} s to ${sys.opened} receivers`);
    const r = await openRun(sys, `fanout ${name}`, {
      kind: 'update',
      rate: RATE,
      seconds: FANOUT_S,
      tasks: [...tasks],
    });
    out[name] = {
      ...r,
      serverCpuMsPerDelivery: r.delivered ? r2((r.serverCpuS * 1000) / r.delivered) : null,
    };
    log(
      `  ${sys.name} ${name}: ok ${r.ackedOk}/${r.sent}, error acks ${r.errorAcks}, unanswered ` +
        `${r.unanswered}, lost ${r.lostPercent} %, p99 ${r.latency.all?.p99 ?? '-'} ms`,
    );
  }
  return out;
}

async function ramp(sys: System) {
  await ensureConnected(sys);
  const steps: any[] = [];
  let held = 0;
  for (const rate of RAMP) {
    log(`${sys.name} ramp: ${rate}/s for ${RAMP_S} s over 50 tasks`);
    const r = await openRun(sys, `ramp ${rate}/s`, {
      kind: 'update',
      rate,
      seconds: RAMP_S,
      tasks: sys.taskIds,
    });
    const p99 = r.latency.all?.p99 ?? Number.POSITIVE_INFINITY;
    const ok = p99 < 100 && r.lostPercent === 0 && r.errorAcks === 0 && r.unanswered === 0;
    steps.push({ rate, ok, ...r });
    log(
      `  ${sys.name} ${rate}/s: p99 ${p99} ms, lost ${r.lostPercent} % -> ${ok ? 'held' : 'failed'}`,
    );
    if (!ok) break;
    held = rate;
  }
  return { highestRateHeld: held, steps };
}

async function closedRun(
  sys: System,
  label: string,
  o: { kind: SendKind; workers: number; seconds: number },
) {
  await settle(sys);
  await Promise.all(sys.receivers.map((f) => f.call('collect')));
  const clientCpu0 = clientCpu(sys);
  const sent = await withProgress(`${sys.name} ${label}`, [sys.senders!], 0, () =>
    sys.senders!.call('closedLoop', {
      kind: o.kind,
      workers: o.workers,
      durationMs: o.seconds * 1000,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      projectId: sys.projectId,
      channelId: sys.channelId,
      taskIds: sys.taskIds,
    }),
  );
  await sleep(1000);
  const r = await deliveries(sys, sent, clientCpu0);
  log(
    `  ${sys.name} ${label}: ${r.ackedOk} ok (${r.throughputPerSecond}/s), ack p50 ` +
      `${r.ack?.p50 ?? '-'} p99 ${r.ack?.p99 ?? '-'} ms, errors ${JSON.stringify(r.errorsByCode)}`,
  );
  return r;
}

async function writers(sys: System) {
  await ensureConnected(sys);
  // The relay has no task:move; its movers send task:update (the only change it relays).
  const kind: SendKind = sys.name === 'baseline' ? 'update' : 'move';
  const out: Record<string, unknown> = {};
  for (const w of [10, 50])
    out[`movers${w}`] = await closedRun(sys, `${w} movers`, {
      kind,
      workers: w,
      seconds: WRITERS_S,
    });
  log(`${sys.name} writers: 100 moves/s for ${WRITERS_S} s over 50 tasks`);
  out.moves100PerSecond = await openRun(sys, 'moves 100/s', {
    kind,
    rate: 100,
    seconds: WRITERS_S,
    tasks: sys.taskIds,
  });
  if (sys.channelId) {
    log(`${sys.name} writers: receivers and senders join #general (not measured)`);
    const joins = await Promise.all(
      [...sys.receivers, sys.senders!].map((f) =>
        f.call('chatJoin', {
          channelId: sys.channelId,
          timeoutMs: 30_000,
          deadlineMs: OPEN_DEADLINE_S * 1000,
        }),
      ),
    );
    out.chatJoin = {
      failed: joins.reduce((a, j) => a + j.failed, 0),
      notTried: joins.reduce((a, j) => a + j.notTried, 0),
    };
    out.chat20 = await closedRun(sys, '20 chat senders', {
      kind: 'chat',
      workers: 20,
      seconds: WRITERS_S,
    });
  } else out.chat20 = null;
  return out;
}

async function memSample(sys: System) {
  for (const r of sys.replicas) process.kill(r.pid, 'SIGUSR2');
  await sleep(1500);
  let rss = 0;
  let heap = 0;
  for (const r of sys.replicas) {
    rss += vmRssBytes(r.pid) ?? 0;
    heap += (await scrapeMetrics(r.url)).get('collabflow_nodejs_heap_size_used_bytes') ?? 0;
  }
  return { rssBytes: rss, heapUsedBytes: heap };
}

async function memory(sys: System) {
  for (const f of [...sys.receivers, ...(sys.senders ? [sys.senders] : [])]) {
    await f.call('close');
    await f.stop();
  }
  sys.receivers = [];
  sys.senders = undefined;
  await sleep(2000);
  await settle(sys);
  const before = await memSample(sys);
  const fleets = Array.from({ length: 4 }, (_, k) => new Fleet(`${sys.name}-mem${k}`));
  const points: any[] = [];
  let have = 0;
  for (const n of MEMORY) {
    const add = n - have;
    const tokens = Array.from(
      { length: add },
      (_, i) => sys.tokens[(have + i) % sys.tokens.length]!,
    );
    const all = specs(sys, tokens, have);
    const per = Math.ceil(all.length / fleets.length);
    log(`${sys.name} memory: connecting ${add} more idle clients (to ${n})`);
    const res = await withProgress(`${sys.name} memory`, fleets, add, () =>
      Promise.all(
        fleets.map((f, k) =>
          f.call('open', {
            clients: all.slice(k * per, (k + 1) * per),
            projectId: sys.projectId,
            concurrency: 25,
            listen: false,
            timeoutMs: 60_000,
            deadlineMs: OPEN_DEADLINE_S * 1000,
          }),
        ),
      ),
    );
    have = n;
    // Fleet `opened` counts are cumulative over the scenario.
    const joined = res.reduce((a, r) => a + r.opened, 0);
    await sleep(2000);
    await settle(sys);
    const m = await memSample(sys);
    points.push({
      connections: n,
      joined,
      seconds: r2(res.reduce((a, r) => Math.max(a, r.ms), 0) / 1000),
      rssBytes: m.rssBytes,
      heapUsedBytes: m.heapUsedBytes,
      rssKiBPerConnection: r2((m.rssBytes - before.rssBytes) / 1024 / joined),
      heapKiBPerConnection: r2((m.heapUsedBytes - before.heapUsedBytes) / 1024 / joined),
    });
    log(
      `  ${sys.name} ${joined} joined: ${points.at(-1).rssKiBPerConnection} KiB RSS, ` +
        `${points.at(-1).heapKiBPerConnection} KiB heap per connection`,
    );
  }
  for (const f of fleets) {
    await f.call('close').catch(() => {});
    await f.stop();
  }
  return { before, points };
}

const RUNNERS: Record<ScenarioName, (sys: System) => Promise<unknown>> = {
  connect,
  fanout,
  ramp,
  writers,
  memory,
};

// ---------- report ----------
type Results = Record<string, Partial<Record<SystemName, any>>>;

function figures(res: Results) {
  const b = (sc: string, sys: SystemName) => res[sc]?.[sys];
  const rows: {
    figure: string;
    baseline: number | null;
    collabflow: number | null;
    target?: string;
    ok?: boolean | null;
  }[] = [];
  const add = (
    figure: string,
    get: (sys: SystemName) => number | null | undefined,
    target?: { text: string; test: (c: number, b: number) => boolean },
  ) => {
    const bv = get('baseline') ?? null;
    const cv = get('collabflow') ?? null;
    rows.push({
      figure,
      baseline: bv,
      collabflow: cv,
      target: target?.text,
      ok: target && bv !== null && cv !== null ? target.test(cv, bv) : null,
    });
  };
  add('handshakes/s', (x) => b('connect', x)?.handshakesPerSecond, {
    text: '>= 1.25x',
    test: (c, bb) => c >= 1.25 * bb,
  });
  add('server CPU ms per handshake', (x) => b('connect', x)?.serverCpuMsPerHandshake, {
    text: '<= 0.8x',
    test: (c, bb) => c <= 0.8 * bb,
  });
  for (const k of ['hot', 'spread']) {
    const f = (x: SystemName) => b('fanout', x)?.[k];
    add(`fanout ${k}: acked ok of sent`, (x) => f(x)?.ackedOk);
    add(`fanout ${k}: error acks`, (x) => f(x)?.errorAcks, { text: '0', test: (c) => c === 0 });
    add(`fanout ${k}: unanswered`, (x) => f(x)?.unanswered, { text: '0', test: (c) => c === 0 });
    add(`fanout ${k}: lost deliveries %`, (x) => f(x)?.lostPercent, {
      text: '0',
      test: (c) => c === 0,
    });
    add(`fanout ${k}: delivery p50 ms`, (x) => f(x)?.latency.all?.p50);
    add(`fanout ${k}: delivery p99 ms`, (x) => f(x)?.latency.all?.p99, {
      text: '<= 1.5x',
      test: (c, bb) => c <= 1.5 * bb,
    });
    add(`fanout ${k}: p99 same-replica ms`, (x) => f(x)?.latency.sameReplica?.p99);
    add(`fanout ${k}: p99 cross-replica ms`, (x) => f(x)?.latency.crossReplica?.p99);
    add(`fanout ${k}: delivery max ms`, (x) => f(x)?.latency.all?.max);
    add(`fanout ${k}: server CPU s (all processes)`, (x) => f(x) && r2(f(x).serverCpuS));
    add(`fanout ${k}: receiver fleets CPU s`, (x) => f(x) && r2(f(x).receiverCpuMs / 1000));
    add(`fanout ${k}: server CPU ms per delivery`, (x) => f(x)?.serverCpuMsPerDelivery, {
      text: '<= 1.0x',
      test: (c, bb) => c <= bb,
    });
  }
  add('ramp: highest rate held (p99 < 100 ms, no loss)', (x) => b('ramp', x)?.highestRateHeld);
  const w = (x: SystemName) => b('writers', x);
  add('10 movers: ack p99 ms', (x) => w(x)?.movers10.ack?.p99, {
    text: '<= 100 ms',
    test: (c) => c <= 100,
  });
  add('10 movers: moves/s', (x) => w(x)?.movers10.throughputPerSecond);
  add('50 movers: ack p99 ms', (x) => w(x)?.movers50.ack?.p99);
  add('50 movers: moves/s', (x) => w(x)?.movers50.throughputPerSecond);
  add('100 moves/s: ack p99 ms', (x) => w(x)?.moves100PerSecond.ack?.p99, {
    text: '<= 50 ms',
    test: (c) => c <= 50,
  });
  add('100 moves/s: acked ok/s', (x) => w(x)?.moves100PerSecond.throughputPerSecond, {
    text: '>= 100/s',
    test: (c) => c >= 99,
  });
  add('20 chat senders: ack p99 ms', (x) => w(x)?.chat20?.ack?.p99, {
    text: '<= 100 ms',
    test: (c) => c <= 100,
  });
  for (const i of MEMORY.keys()) {
    const p = (x: SystemName) => b('memory', x)?.points[i];
    add(`idle RSS KiB per connection @${MEMORY[i]}`, (x) => p(x)?.rssKiBPerConnection, {
      text: '<= 1.0x',
      test: (c, bb) => c <= bb,
    });
    add(`idle heap KiB per connection @${MEMORY[i]}`, (x) => p(x)?.heapKiBPerConnection, {
      text: '<= 1.0x',
      test: (c, bb) => c <= bb,
    });
  }
  return rows.map((r) => ({
    ...r,
    ratio: ratio(r.collabflow ?? undefined, r.baseline ?? undefined),
  }));
}

function printTable(rows: ReturnType<typeof figures>) {
  const cells = [
    ['figure', 'baseline', 'CollabFlow', 'ratio', 'target', 'met'],
    ...rows.map((r) => [
      r.figure,
      r.baseline === null ? 'n/a' : String(r.baseline),
      r.collabflow === null ? 'n/a' : String(r.collabflow),
      r.ratio === null ? '-' : `${r.ratio}x`,
      r.target ?? '',
      r.ok === null || r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  for (const c of cells)
    console.log(
      c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '),
    );
}

/** Latency percentiles against update rate, one colour per system: plain SVG text. */
function chart(res: Results): string {
  const W = 720;
  const H = 420;
  const L = 70;
  const R = 170;
  const T = 40;
  const B = 50;
  const series: { label: string; colour: string; dash: string; pts: [number, number][] }[] = [];
  const colours: Record<SystemName, string> = { baseline: '#1f77b4', collabflow: '#d62728' };
  for (const sys of systems) {
    const steps = (res.ramp?.[sys]?.steps ?? []) as any[];
    for (const [q, dash] of [
      ['p50', '6 4'],
      ['p99', ''],
      ['max', '2 3'],
    ] as const) {
      const pts = steps
        .filter((st) => st.latency.all)
        .map((st) => [st.rate, Math.max(0.1, st.latency.all[q])] as [number, number]);
      if (pts.length) series.push({ label: `${sys} ${q}`, colour: colours[sys], dash, pts });
    }
  }
  const rates = RAMP;
  const x = (r: number) =>
    L +
    ((Math.log2(r) - Math.log2(rates[0]!)) / Math.max(1, Math.log2(rates.at(-1)! / rates[0]!))) *
      (W - L - R);
  const yMin = 0.1;
  const yMax = 100_000;
  const y = (ms: number) =>
    T +
    (1 -
      (Math.log10(Math.min(yMax, ms)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
      (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14">Delivery latency vs task:update rate (${RECEIVERS} receivers, 2 replicas each)</text>`,
  ];
  for (let e = -1; e <= 5; e++) {
    const v = 10 ** e;
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`,
    );
  }
  out.push(
    `<line x1="${L}" x2="${W - R}" y1="${y(100)}" y2="${y(100)}" stroke="#999" stroke-dasharray="4 4"/>`,
  );
  for (const r of rates)
    out.push(
      `<line x1="${x(r)}" x2="${x(r)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`,
      `<text x="${x(r)}" y="${H - B + 16}" text-anchor="middle">${r}</text>`,
    );
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">updates per second</text>`,
  );
  series.forEach((se, i) => {
    const d = se.pts
      .map(([r, ms], k) => `${k ? 'L' : 'M'}${x(r).toFixed(1)},${y(ms).toFixed(1)}`)
      .join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${se.colour}" stroke-width="2"${se.dash ? ` stroke-dasharray="${se.dash}"` : ''}/>`,
      ...se.pts.map(
        ([r, ms]) =>
          `<circle cx="${x(r).toFixed(1)}" cy="${y(ms).toFixed(1)}" r="3" fill="${se.colour}"/>`,
      ),
      `<line x1="${W - R + 15}" x2="${W - R + 45}" y1="${T + 10 + i * 18}" y2="${T + 10 + i * 18}" stroke="${se.colour}" stroke-width="2"${se.dash ? ` stroke-dasharray="${se.dash}"` : ''}/>`,
      `<text x="${W - R + 50}" y="${T + 14 + i * 18}">${se.label}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---------- cpu profile summary ----------
const OUT_DIR = join(ROOT, '.collabflow/bench');
const PROF_DIR = join(OUT_DIR, `prof-${Date.now()}`);

function summariseProfile() {
  const files = existsSync(PROF_DIR)
    ? readdirSync(PROF_DIR).filter((f) => f.endsWith('.cpuprofile'))
    : [];
  if (!files.length) return null;
  const p = JSON.parse(readFileSync(join(PROF_DIR, files[0]!), 'utf8')) as {
    nodes: {
      id: number;
      hitCount?: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
    }[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const perSample = (p.endTime - p.startTime) / 1000 / Math.max(1, p.samples.length);
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const ms = hits * perSample;
    if (functionName === '(idle)') continue;
    total += ms;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const area = pkg
      ? pkg
      : url.includes('/backend/src/')
        ? `backend/src/${url.split('/backend/src/')[1]!.split('/')[0]}`
        : url.startsWith('node:')
          ? 'node internals'
          : functionName.startsWith('(')
            ? functionName
            : url || '(native)';
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: r2((100 * ms) / total) }));
  return {
    file: relative(ROOT, join(PROF_DIR, files[0]!)),
    busyMs: Math.round(total),
    byArea: top(byArea, 15),
    byFunction: top(byFn, 20),
  };
}

// ---------- main ----------
async function main() {
  if (!existsSync(join(ROOT, 'shared/dist/index.js')))
    throw new Error('shared/dist is missing: run `npm run build -w @collabflow/shared` once.');
  const startedAt = new Date();
  log(
    `bench: systems ${systems.join(', ')}; scenarios ${[...wanted].join(', ')}; ${RECEIVERS} ` +
      `receivers; ${cpus().length} cores; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const busy0 = machineBusySeconds();
  const up: System[] = [];
  for (const name of systems)
    up.push(name === 'baseline' ? await startBaseline() : await startCollabFlow());
  const results: Results = {};
  for (const sc of SCENARIOS) {
    if (!wanted.has(sc)) continue;
    results[sc] = {};
    for (const sys of up) {
      const start = performance.now();
      log(`=== ${sc}: ${sys.name}`);
      results[sc][sys.name] = await RUNNERS[sc](sys);
      log(`=== ${sc}: ${sys.name} done in ${s(start)} s`);
      // What we have so far, in case the watchdog stops the run later.
      mkdirSync(OUT_DIR, { recursive: true });
      writeFileSync(
        join(OUT_DIR, `suite-${startedAt.toISOString().replace(/[:.]/g, '-')}.partial.json`),
        `${JSON.stringify({ startedAt, results }, null, 2)}\n`,
      );
    }
  }
  const busy1 = machineBusySeconds();
  const wallSeconds = r2((performance.now() - t0) / 1000);
  const loadAtEnd = loadavg();
  log('stopping fleets, replicas, Redis, FerretDB and PostgreSQL');
  await teardown();
  const rows = figures(results);
  console.log('');
  printTable(rows);
  const profile = flags['cpu-prof'] ? summariseProfile() : null;
  if (profile) {
    console.log(`\nCPU profile of CollabFlow r1 (${profile.file}), ${profile.busyMs} ms busy:`);
    for (const a of profile.byArea)
      console.log(`  ${a.percent.toString().padStart(6)} %  ${a.name}`);
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = join(OUT_DIR, `suite-${stamp}.json`);
  const result = {
    startedAt: startedAt.toISOString(),
    wallSeconds,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemMiB: Math.round(totalmem() / 1024 / 1024),
      kernel: release(),
      node: process.version,
      loadAvgAtEnd: loadAtEnd.map(r2),
      machineBusyCpuSeconds: busy0 !== null && busy1 !== null ? r2(busy1 - busy0) : null,
    },
    options: {
      receivers: RECEIVERS,
      fanoutSeconds: FANOUT_S,
      rate: RATE,
      ramp: RAMP,
      memory: MEMORY,
    },
    figures: rows,
    results,
    profile,
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${relative(ROOT, file)}`);
  if (results.ramp) {
    const svg = join(OUT_DIR, `suite-${stamp}-latency.svg`);
    writeFileSync(svg, chart(results));
    log(`wrote ${relative(ROOT, svg)}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    abort('benchmark failed', 1);
  },
);

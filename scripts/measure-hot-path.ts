/**
 * The access hot path and idle connections of one replica, measured in isolation (docs/performance.md,
 * "Access cache" and "Connections"):
 *
 *   node --import tsx scripts/measure-hot-path.ts [--root DIR] [--n 500] [--conns 2000] [--snapshot]
 *
 * Starts PostgreSQL + FerretDB and Redis on free loopback ports (in a temporary directory) and one
 * replica (`DIR/backend/src/main.ts`, default this checkout; pass a copy of another commit to
 * compare), then:
 *   1. N sequential handshakes (connect + JWT + `join:project` ack + disconnect);
 *   2. N sequential `join:project` acks on one connected socket;
 *   3. `--conns` idle sockets, each joined to the project: RSS and heap per connection;
 * with the CPU time of the replica and of every database and Redis process for 1 and 2.
 * With `--snapshot` the replica writes a heap snapshot at the end of 3 and the script prints the
 * biggest constructors by self size (count and bytes per connection).
 * Everything it started is stopped by PID.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { io as connect, type Socket } from 'socket.io-client';
import { startDatabase, startRedis } from './lib/services.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const ROOT = resolve(opt('root', HERE));
const N = Number(opt('n', '500'));
const CONNS = Number(opt('conns', '2000'));
const SNAPSHOT = args.includes('--snapshot');
const SECRET = 'measure-secret-that-is-long-enough-for-hs256-0123456789';
const TICK = 100; // clock ticks per second on Linux
const GC_ON_SIGNAL = "process.on('SIGWINCH', () => { globalThis.gc(); globalThis.gc(); });";

/** utime + stime of a process and its live descendants, in ms. */
function cpuMs(pid: number): number {
  const all = new Map<number, { ppid: number; ms: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      all.set(Number(d), {
        ppid: Number(f[1]),
        ms: ((Number(f[11]) + Number(f[12])) * 1000) / TICK,
      });
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    total += all.get(p)?.ms ?? 0;
    for (const [child, v] of all) if (v.ppid === p) todo.push(child);
  }
  return total;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^collabflow_nodejs_heap_size_used_bytes (\S+)/m.exec(text);
  return Number(m?.[1] ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(url: string, token: string): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    s.once('connect', () => res(s));
    s.once('connect_error', rej);
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-measure-'));
  const db = await startDatabase({ dataDir: join(dir, 'db') });
  const redis = await startRedis({ dataDir: join(dir, 'redis') });
  const child = spawn(
    process.execPath,
    [
      // SIGWINCH: a full GC before each memory reading (gc() twice, as heap snapshots do).
      '--expose-gc',
      `--import=data:text/javascript,${encodeURIComponent(GC_ON_SIGNAL)}`,
      ...(SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : []),
      '--import',
      'tsx',
      join(ROOT, 'backend/src/main.ts'),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        INSTANCE_ID: 'measure',
        JWT_SECRET: SECRET,
        PASSWORD_HASH_COST: '10',
        LOG_LEVEL: 'info',
        MONGODB_URI: `${db.url}measure`,
        REDIS_URL: redis.url,
        RATE_LIMIT_SOCKET_MUTATIONS: '1000000',
        RATE_LIMIT_API_POINTS: '1000000',
        RATE_LIMIT_LOGIN_PER_IP: '1000000',
        RATE_LIMIT_SOCKET_HANDSHAKES: '1000000',
        MAX_SOCKETS_PER_USER: '1000000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const stopAll = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await redis.stop();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(1));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let url = '';
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /"port":(\d+)[^\n]*listening|listening[^\n]*"port":(\d+)/.exec(out);
      if (m && !url) url = `http://127.0.0.1:${m[1] ?? m[2]}`;
      if (out.length > 100_000) out = out.slice(-10_000);
    });
    const deadline = Date.now() + 30_000;
    while (!url) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error('replica did not start');
      await sleep(100);
    }
    const post = async (path: string, body: unknown, token?: string) => {
      const r = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return (await r.json()) as { user: { id: string }; project: { id: string } };
    };
    const reg = await post('/api/auth/register', {
      email: `measure-${Date.now()}@example.test`,
      password: 'correct horse battery',
      name: 'Measure',
    });
    const userId: string = reg.user.id;
    const token = jwt.sign({}, SECRET, {
      algorithm: 'HS256',
      issuer: 'collabflow',
      audience: 'collabflow-api',
      subject: userId,
      expiresIn: 3600,
    });
    const { project } = await post('/api/projects', { name: 'measure' }, token);
    const projectId: string = project.id;
    const servers = { replica: child.pid!, db: db.postgres.pid, ferretdb: db.ferretdb.pid };
    const cpu = () => ({
      replica: cpuMs(servers.replica),
      all: cpuMs(servers.replica) + cpuMs(servers.db) + cpuMs(servers.ferretdb) + cpuMs(redis.pid),
    });
    const report = (what: string, n: number, ms: number, c0: ReturnType<typeof cpu>) => {
      const c1 = cpu();
      console.log(
        `${what}: ${n} in ${ms.toFixed(0)} ms = ${((n * 1000) / ms).toFixed(0)}/s; ` +
          `CPU per op: replica ${((c1.replica - c0.replica) / n).toFixed(2)} ms, ` +
          `all server processes ${((c1.all - c0.all) / n).toFixed(2)} ms`,
      );
    };

    // Warm-up: JIT, connection pools, caches.
    for (let i = 0; i < 50; i++) {
      const s = await open(url, token);
      await s.timeout(5000).emitWithAck('join:project', projectId);
      s.disconnect();
    }

    let c0 = cpu();
    let t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const s = await open(url, token);
      const ack = await s.timeout(5000).emitWithAck('join:project', projectId);
      if (!ack.ok) throw new Error(`join failed: ${JSON.stringify(ack)}`);
      s.disconnect();
    }
    report('handshake + join:project + disconnect, sequential', N, performance.now() - t0, c0);

    const one = await open(url, token);
    c0 = cpu();
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const ack = await one.timeout(5000).emitWithAck('join:project', projectId);
      if (!ack.ok) throw new Error(`join failed: ${JSON.stringify(ack)}`);
    }
    report('join:project ack on one socket, sequential', N, performance.now() - t0, c0);
    one.disconnect();

    // Idle joined connections.
    const collect = async () => {
      child.kill('SIGWINCH');
      await sleep(1500);
    };
    // Per-socket rate-limit records live 10 s after a socket's last event: let them expire.
    await sleep(11_000);
    await collect();
    const rss0 = rssKb(child.pid!);
    const heap0 = await heapUsed(url);
    const sockets: Socket[] = [];
    for (let i = 0; i < CONNS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, CONNS - i) }, () => open(url, token)),
      );
      await Promise.all(batch.map((s) => s.timeout(10_000).emitWithAck('join:project', projectId)));
      sockets.push(...batch);
    }
    await sleep(11_000);
    await collect();
    const rss1 = rssKb(child.pid!);
    const heap1 = await heapUsed(url);
    console.log(
      `idle joined connections: ${CONNS}; per connection RSS ${((rss1 - rss0) / CONNS).toFixed(1)} KB, ` +
        `heap ${((heap1 - heap0) / 1024 / CONNS).toFixed(1)} KB ` +
        `(RSS ${(rss0 / 1024).toFixed(0)} -> ${(rss1 / 1024).toFixed(0)} MB, heap ${(heap0 / 2 ** 20).toFixed(0)} -> ${(heap1 / 2 ** 20).toFixed(0)} MB)`,
    );
    if (SNAPSHOT) {
      child.kill('SIGUSR2');
      let file: string | undefined;
      for (let i = 0; i < 600 && !file; i++) {
        await sleep(500);
        const f = readdirSync(dir).find((n) => n.endsWith('.heapsnapshot'));
        // Written when the size stops changing.
        if (f) {
          const a = readFileSync(join(dir, f)).length;
          await sleep(1000);
          if (readFileSync(join(dir, f)).length === a && a > 0) file = join(dir, f);
        }
      }
      if (file) summarise(file, CONNS);
    }
    for (const s of sockets) s.disconnect();
  } finally {
    await stopAll();
  }
}

/** Self size by constructor from a V8 heap snapshot: the biggest, per connection. */
function summarise(file: string, conns: number) {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: [string[]];
        edge_fields: string[];
        edge_types: [string[]];
      };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const F = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const by = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += F) {
    const type = types[snap.nodes[i + iType]!]!;
    const name =
      type === 'object' || type === 'closure'
        ? `${type === 'closure' ? 'closure ' : ''}${snap.strings[snap.nodes[i + iName]!]}`
        : `(${type})`;
    const e = by.get(name) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize]!;
    by.set(name, e);
  }
  // Who holds the handshake requests (IncomingMessage): owner constructor and edge name.
  const E = snap.snapshot.meta.edge_fields.length;
  const iEdgeCount = fields.indexOf('edge_count');
  const iTo = snap.snapshot.meta.edge_fields.indexOf('to_node');
  const iEdgeName = snap.snapshot.meta.edge_fields.indexOf('name_or_index');
  const iEdgeType = snap.snapshot.meta.edge_fields.indexOf('type');
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const holders = new Map<string, number>();
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += F) {
    const count = snap.nodes[i + iEdgeCount]!;
    for (let k = 0; k < count; k++, edge += E) {
      const to = snap.edges[edge + iTo]!;
      if (snap.strings[snap.nodes[to + iName]!] !== 'IncomingMessage') continue;
      if (types[snap.nodes[to + iType]!] !== 'object') continue;
      const et = edgeTypes[snap.edges[edge + iEdgeType]!];
      const en =
        et === 'element' || et === 'hidden' ? '[]' : snap.strings[snap.edges[edge + iEdgeName]!];
      const owner = `${types[snap.nodes[i + iType]!]} ${snap.strings[snap.nodes[i + iName]!]}`;
      const key = `${owner.slice(0, 40)} .${String(en)}`;
      holders.set(key, (holders.get(key) ?? 0) + 1);
    }
  }
  console.log('what holds IncomingMessage objects:');
  for (const [k, n] of [...holders].sort((a, b) => b[1] - a[1]).slice(0, 8))
    console.log(`  ${n}  ${k}`);
  const total = [...by.values()].reduce((t, e) => t + e.size, 0);
  console.log(`heap snapshot total (after a full GC): ${(total / 2 ** 20).toFixed(1)} MB`);
  const top = [...by].sort((a, b) => b[1].size - a[1].size).slice(0, 30);
  console.log(`heap snapshot ${file}: biggest constructors by self size`);
  for (const [name, e] of top) {
    console.log(
      `  ${name.slice(0, 50).padEnd(50)} ${String(e.count).padStart(8)} (${(e.count / conns).toFixed(1)}/conn) ` +
        `${(e.size / 2 ** 20).toFixed(1).padStart(7)} MB (${(e.size / 1024 / conns).toFixed(2)} KB/conn)`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

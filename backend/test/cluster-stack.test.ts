import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { reservePort } from '../../scripts/lib/services.js';
import { client, freshMongoUri } from './helpers/api.js';
import { call, collect, connected, waitUntil } from './helpers/cluster.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * `npm run start:cluster` as a user runs it (scripts/stack.ts cluster, on the built backend and
 * the built web app): two replica processes, the Next.js web app, and Debian's nginx with the
 * docker-compose nginx config in front of them, on one origin.
 */
/** The stack's last line once everything is up; the block of URL lines comes just before it. */
const READY = '[collabflow] ready';

describe('the local cluster (two replicas and the web app behind nginx)', () => {
  let stack: ReturnType<typeof spawn>;
  /** Everything printed (stdout and stderr), for error messages and the web app's port. */
  let out = '';
  /** Standard output alone: only its complete lines are read (one may still be arriving). */
  let stdout = '';
  const stdoutLines = () => stdout.split('\n').slice(0, -1);
  /** The complete lines of standard output when `ready` was first seen. */
  let atReady: string[] = [];
  let exited: Promise<number | null>;
  const ports = { r1: 0, r2: 0, nginx: 0, web: 0 };
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // npm test builds the web app before the tests; without it this test would not cover it.
    if (!existsSync(join(ROOT, 'frontend/.next/BUILD_ID'))) {
      throw new Error(
        'the web app is not built (no frontend/.next/BUILD_ID); run `npm run build -w @collabflow/frontend` (npm test does)',
      );
    }
    // Held until the stack starts: below the kernel's ephemeral range, so no other test's
    // process can take one meanwhile (scripts/lib/services.ts reservePort).
    const held = await Promise.all([reservePort(), reservePort(), reservePort(), reservePort()]);
    [ports.r1, ports.r2, ports.nginx, ports.web] = held.map((h) => h.port) as [
      number,
      number,
      number,
      number,
    ];
    await Promise.all(held.map((h) => h.release()));
    stack = spawn(process.execPath, ['--import', 'tsx', 'scripts/stack.ts', 'cluster'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        CLUSTER_PORTS: `${ports.r1},${ports.r2}`,
        NGINX_PORT: String(ports.nginx),
        WEB_PORT: String(ports.web),
        MONGODB_URI: freshMongoUri('stack'),
        REDIS_URL: inject('redisUrl'),
        SEED_DEMO: 'true',
        PASSWORD_HASH_COST: '10',
        // Every test file registers and logs in from 127.0.0.1, and the per-address budget lives
        // in the shared Redis (every replica's count, whatever its own limit): raised like theirs.
        RATE_LIMIT_LOGIN_PER_IP: '100000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => stack.once('exit', (code) => resolve(code)));
    stack.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      out += c;
    });
    stack.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c));
    // Wait for `ready` as a complete line of standard output, not for the text anywhere in a
    // stream that may hold half a line: the URL block is printed in the same write, before it.
    await waitUntil(
      () => stdoutLines().includes(READY) || stack.exitCode !== null,
      90_000,
      'the stack to be ready',
    );
    if (!stdoutLines().includes(READY)) throw new Error(`stack failed:\n${out}`);
    atReady = stdoutLines();
    ports.web = Number(/web app \(Next\.js\) on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    if (stack && stack.exitCode === null) {
      stack.kill('SIGINT');
      await exited;
    }
  });

  it('prints the demo credentials and the URLs as one complete block, `ready` last', () => {
    expect(ports.web).toBeGreaterThan(0);
    const lines = atReady;
    const ready = lines.indexOf(READY);
    const edge = `http://localhost:${ports.nginx}`;
    const block = [
      `  web app      ${edge}   (log in as alice@demo.collabflow.test / collabflow-demo)`,
      `  API          ${edge}/api   (through nginx with Socket.IO, sticky by client address; OpenAPI: /api/openapi.json)`,
      `  replica 1    http://localhost:${ports.r1}`,
      `  replica 2    http://localhost:${ports.r2}`,
      `  health       ${edge}/readyz   metrics: http://localhost:${ports.r1}/metrics`,
      `  logs         ${join(ROOT, '.collabflow/logs')}`,
      'Ctrl-C stops everything this command started.',
      'ready',
    ].map((l) => `[collabflow] ${l}`);
    // Whoever waits for `ready` has the whole block by then: the lines just before it, in order.
    expect(lines.slice(ready - block.length + 1, ready + 1)).toEqual(block);
  });

  it('serves the web app pages and assets through nginx, on the same origin as the API', async () => {
    const viaNginx = `http://127.0.0.1:${ports.nginx}`;
    const page = await fetch(`${viaNginx}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const asset = /["'](\/_next\/static\/[^"']+\.js)["']/.exec(html)?.[1];
    expect(asset, 'a /_next/static script in the page').toBeDefined();
    const js = await fetch(`${viaNginx}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    await js.arrayBuffer();
    // The same origin answers the API.
    expect((await fetch(`${viaNginx}/healthz`)).status).toBe(200);
  });

  it('serves the API and Socket.IO long-polling through nginx, and syncs with the other replica', async () => {
    const viaNginx = `http://127.0.0.1:${ports.nginx}`;
    const ready = await client(viaNginx).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ mongo: 'up', redis: 'up' });
    const alice = await client(viaNginx).post('/api/auth/login', {
      email: 'alice@demo.collabflow.test',
      password: 'collabflow-demo',
    });
    expect(alice.status).toBe(200);
    const bob = await client(`http://127.0.0.1:${ports.r2}`).post('/api/auth/login', {
      email: 'bob@demo.collabflow.test',
      password: 'collabflow-demo',
    });
    const projectId = (await client(viaNginx).get('/api/projects', alice.body.token)).body
      .projects[0].id;

    // Polling only: every request of the session must reach the same replica (ip_hash).
    const polling = io(viaNginx, {
      auth: { token: alice.body.token },
      transports: ['polling'],
      forceNew: true,
      reconnection: false,
    });
    const direct = io(`http://127.0.0.1:${ports.r2}`, {
      auth: { token: bob.body.token },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(polling, direct);
    await Promise.all([connected(polling), connected(direct)]);
    expect((await call(polling, 'join:project', projectId)).ok).toBe(true);
    expect((await call(direct, 'join:project', projectId)).ok).toBe(true);

    const seenByPolling = collect(polling, 'task:created');
    const created = await call(direct, 'task:create', {
      projectId,
      task: { title: 'made on replica 2' },
    });
    expect(created.ok).toBe(true);
    await waitUntil(() => seenByPolling.length === 1, 5000, 'task:created through nginx');
    expect(seenByPolling[0].task.id).toBe(created.data.task.id);

    const seenDirect = collect(direct, 'task:moved');
    const moved = await call(polling, 'task:move', {
      projectId,
      taskId: created.data.task.id,
      toStatus: 'done',
      newIndex: 0,
    });
    expect(moved.ok).toBe(true);
    await waitUntil(() => seenDirect.length === 1, 5000, 'task:moved on replica 2');
    expect(seenDirect[0].task.status).toBe('done');
  });

  it('stops everything it started on Ctrl-C', async () => {
    stack.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped everything it started');
    for (const p of [ports.r1, ports.r2, ports.nginx, ports.web])
      expect(await portFree(p)).toBe(true);
  });
});

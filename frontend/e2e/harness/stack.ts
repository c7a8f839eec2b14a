/**
 * The whole product as real OS processes, for browser tests: two backend replicas sharing one
 * fresh database (on the run's FerretDB) and the run's Redis, the production build of the web app
 * (`next start`), and two nginx processes rendered from deploy/nginx/collabflow.conf:
 *
 *   originA  nginx A ── /api /socket.io /healthz /readyz ──► replica 1 (seeds the demo data)
 *                    └─ pages, /_next/ ──────────────────► web app ◄─┐
 *   originB  nginx B ── /api /socket.io /healthz /readyz ──► replica 2 │
 *                    └─ pages, /_next/ ──────────────────────────────┘
 *
 * So a browser on originA and one on originB are two people served by different replicas, each
 * on one origin for pages, the API and Socket.IO; what one does reaches the other only through
 * Redis. Every process is stopped by PID in `stop()`; if start-up fails halfway, whatever did
 * start is stopped before the error is thrown.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
// The declaration of what the global setup provides (inject('redisUrl'), inject('mongoUrl')).
import type {} from '../../../backend/test/global-setup.js';
import { freshMongoUri } from '../../../backend/test/helpers/api.js';
import { startReplica, type Replica } from '../../../backend/test/helpers/cluster.js';
import { nginxArgs, nginxBinary, renderNginxConf } from '../../../scripts/lib/nginx.js';
import { reservePort, type ReservedPort } from '../../../scripts/lib/services.js';
import { startProcess, trackPid, waitForHttp, type Managed } from './process.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FRONTEND_DIR = join(ROOT, 'frontend');
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');

export const DEMO_PASSWORD = 'collabflow-demo';
export const DEMO = {
  alice: { email: 'alice@demo.collabflow.test', password: DEMO_PASSWORD, name: 'Alice Martin' },
  bob: { email: 'bob@demo.collabflow.test', password: DEMO_PASSWORD, name: 'Bob Okafor' },
  carol: { email: 'carol@demo.collabflow.test', password: DEMO_PASSWORD, name: 'Carol Nguyen' },
} as const;
/** The project backend/src/seed/demo.ts creates (alice owner, bob member, carol viewer). */
export const DEMO_PROJECT = 'Product launch';

export interface E2EStack {
  /** nginx A: pages from the web app, API and Socket.IO from replica 1 only. */
  readonly originA: string;
  /** nginx B: pages from the web app, API and Socket.IO from replica 2 only. */
  readonly originB: string;
  /** [replica 1 (INSTANCE_ID e2e-replica-1, seeded the demo), replica 2 (e2e-replica-2)]. */
  readonly replicas: readonly [Replica, Replica];
  /** The web app itself (`next start`), without nginx. */
  readonly webUrl: string;
  /** The database both replicas use. */
  readonly mongoUri: string;
  /**
   * The INSTANCE_IDs of the replicas whose request log holds this request id (the X-Request-Id
   * header of a response through nginx): which replica served a given request.
   */
  servedBy(requestId: string): string[];
  /** The web app's and the two nginx processes' output so far, for failure messages. */
  logs(): string;
  /** Stops every process by PID (SIGTERM, SIGKILL after a grace period) and removes temp files. */
  stop(): Promise<void>;
}

export interface E2EStackOptions {
  /** Extra environment for both replicas (after the harness defaults, so it wins). */
  replicaEnv?: Record<string, string>;
}

/** The web app must have been built (`npm test` does it before vitest); never skip silently. */
export function assertWebAppBuilt(): void {
  if (!existsSync(join(FRONTEND_DIR, '.next/BUILD_ID'))) {
    throw new Error(
      'The web app is not built (frontend/.next/BUILD_ID is missing), so the browser tests cannot run. ' +
        'Build it with `npm run build -w @collabflow/shared -w @collabflow/backend && npm run build -w @collabflow/frontend` ' +
        '(`npm test` does this before vitest).',
    );
  }
}

export async function startE2EStack(opts: E2EStackOptions = {}): Promise<E2EStack> {
  assertWebAppBuilt();
  const workDir = mkdtempSync(join(tmpdir(), 'collabflow-e2e-'));
  const stoppers: (() => Promise<unknown>)[] = [];
  const processes: Managed[] = [];
  const cleanup = async () => {
    for (const s of stoppers.splice(0).reverse()) {
      await s().catch(() => undefined);
    }
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    // The origins are known before the replicas start, so they can be in CORS_ORIGINS. Their
    // ports are held until nginx starts: a port merely picked could be taken meanwhile by
    // another test's process, and the browser would then talk to that one.
    const heldA = await reservePort();
    const heldB = await reservePort();
    stoppers.push(
      () => heldA.release(),
      () => heldB.release(),
    );
    const [portA, portB] = [heldA.port, heldB.port];
    const originA = `http://127.0.0.1:${portA}`;
    const originB = `http://127.0.0.1:${portB}`;
    const mongoUri = freshMongoUri('e2e');
    const replicaEnv = (name: string, seed: boolean): Record<string, string> => ({
      MONGODB_URI: mongoUri,
      REDIS_URL: inject('redisUrl'),
      SEED_DEMO: seed ? 'true' : 'false',
      CORS_ORIGINS: [
        originA,
        originB,
        `http://localhost:${portA}`,
        `http://localhost:${portB}`,
      ].join(','),
      // Offline is noticed within seconds, not the default 15 s.
      PRESENCE_TTL: '6s',
      PRESENCE_HEARTBEAT: '2s',
      // Debug: every request is logged with its id (nginx passes X-Request-Id on), so a test can
      // tell which replica served which request.
      LOG_LEVEL: 'debug',
      // Browser tests log the same demo people in many times from one address, against the one
      // Redis the whole run shares; limits get tests of their own.
      RATE_LIMIT_LOGIN_PER_IP: '100000',
      RATE_LIMIT_LOGIN_PER_EMAIL: '100000',
      RATE_LIMIT_API_POINTS: '100000',
      RATE_LIMIT_SOCKET_MUTATIONS: '100000',
      RATE_LIMIT_SOCKET_CHAT: '100000',
      RATE_LIMIT_SOCKET_TYPING: '100000',
      RATE_LIMIT_SOCKET_HANDSHAKES: '100000',
      SHUTDOWN_TIMEOUT: '5s',
      ...opts.replicaEnv,
      INSTANCE_ID: name,
    });
    const addReplica = (r: Replica) => {
      trackPid(r.pid, r.exited);
      stoppers.push(() => r.stop());
      return r;
    };

    // The web app starts first (it needs nothing else and takes longest); replica 1 seeds the
    // demo workspace before it listens, and replica 2 starts after it.
    const heldWeb = await reservePort();
    const webPort = heldWeb.port;
    await heldWeb.release();
    const web = startProcess(
      'web',
      process.execPath,
      [NEXT_BIN, 'start', '-p', String(webPort), '-H', '127.0.0.1'],
      {
        cwd: FRONTEND_DIR,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          // `next start` under NODE_ENV=test or development would not be the production build.
          NODE_ENV: 'production',
          NEXT_TELEMETRY_DISABLED: '1',
        },
      },
    );
    processes.push(web);
    stoppers.push(() => web.stop());
    const r1 = addReplica(await startReplica('e2e-replica-1', replicaEnv('e2e-replica-1', true)));
    const r2 = addReplica(await startReplica('e2e-replica-2', replicaEnv('e2e-replica-2', false)));
    const webUrl = `http://127.0.0.1:${webPort}`;
    await waitForHttp(`${webUrl}/`, 'the web app (next start)', {
      timeoutMs: 90_000,
      alive: web.running,
      describe: web.output,
    });
    for (const r of [r1, r2]) {
      const ready = await fetch(`${r.url}/readyz`);
      if (!ready.ok) throw new Error(`${r.name} is not ready: ${await ready.text()}`);
    }

    const startNginx = async (label: 'a' | 'b', held: ReservedPort, replica: Replica) => {
      const port = held.port;
      const dir = join(workDir, `nginx-${label}`);
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'nginx.conf');
      writeFileSync(
        conf,
        renderNginxConf({
          upstreams: [`127.0.0.1:${replica.port}`],
          webUpstreams: [`127.0.0.1:${webPort}`],
          listenPort: port,
          workDir: dir,
        }),
      );
      await held.release();
      const nginx = startProcess(`nginx-${label}`, nginxBinary(), nginxArgs(conf, dir), {
        env: { PATH: process.env.PATH },
      });
      processes.push(nginx);
      stoppers.push(() => nginx.stop());
      const origin = `http://127.0.0.1:${port}`;
      await waitForHttp(`${origin}/healthz`, `nginx ${label.toUpperCase()}`, {
        timeoutMs: 20_000,
        alive: nginx.running,
        describe: () => nginx.output(),
      });
      await waitForHttp(`${origin}/`, `the web app through nginx ${label.toUpperCase()}`, {
        timeoutMs: 30_000,
        alive: nginx.running,
        describe: () => nginx.output(),
      });
      // The answers came from our nginx, not from whatever else might listen there.
      const check = await fetch(`${origin}/healthz`);
      await check.body?.cancel();
      if (!nginx.running() || !/nginx/i.test(check.headers.get('server') ?? '')) {
        throw new Error(
          `nginx ${label.toUpperCase()} is not the server on ${origin}:\n${nginx.output()}`,
        );
      }
      return origin;
    };
    await startNginx('a', heldA, r1);
    await startNginx('b', heldB, r2);

    let stopped: Promise<void> | undefined;
    return {
      originA,
      originB,
      replicas: [r1, r2],
      webUrl,
      mongoUri,
      servedBy: (requestId) =>
        [r1, r2]
          .filter((r) =>
            r.logs.some((l) => (l.req as { id?: unknown } | undefined)?.id === requestId),
          )
          .map((r) => r.name),
      logs: () =>
        processes
          .map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.output().slice(-4000)}`)
          .join('\n'),
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

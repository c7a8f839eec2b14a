/**
 * The web benchmark's own processes besides the backend replica: the built web app
 * (`next start`) and one nginx in front of both (rendered from deploy/nginx/collabflow.conf), so
 * the browser has one origin for pages, /api and /socket.io. Both are started with the
 * end-to-end harness's process helpers (output captured, stopped by PID, SIGKILLed by PID if this
 * process exits first).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nginxArgs, nginxBinary, renderNginxConf } from '../../scripts/lib/nginx.js';
import { freePort } from '../../scripts/lib/services.js';
import { startProcess, waitForHttp, type Managed } from '../../frontend/e2e/harness/process.js';

export interface WebProcess {
  readonly proc: Managed;
  readonly port: number;
  readonly url: string;
}

/** Throws with the build command when frontend/.next holds no finished production build. */
export function assertBuilt(root: string): void {
  if (!existsSync(join(root, 'frontend/.next/BUILD_ID'))) {
    throw new Error(
      'The web app is not built (frontend/.next/BUILD_ID is missing). Build it first:\n' +
        '  npm run build -w @collabflow/shared\n' +
        '  (cd frontend && NEXT_TELEMETRY_DISABLED=1 npx next build)\n' +
        'If someone else is rebuilding frontend/.next right now, wait for that build to finish.',
    );
  }
}

/** `next start` of the production build in frontend/.next, on a free loopback port. */
export async function startWebApp(root: string): Promise<WebProcess> {
  assertBuilt(root);
  const port = await freePort();
  const proc = startProcess(
    'web',
    process.execPath,
    [join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: join(root, 'frontend'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/login`, 'the web app (next start)', {
      timeoutMs: 90_000,
      alive: proc.running,
      describe: () =>
        `${proc.output().slice(-3000)}\n(if frontend/.next is being rebuilt by someone else, ` +
        'wait for that build to finish and run the benchmark again)',
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, port, url };
}

/** One nginx on `port` in front of the replica and the web app; its files live in `dir`. */
export async function startNginx(opts: {
  dir: string;
  port: number;
  apiPort: number;
  webPort: number;
}): Promise<Managed> {
  mkdirSync(opts.dir, { recursive: true });
  const conf = join(opts.dir, 'nginx.conf');
  writeFileSync(
    conf,
    renderNginxConf({
      upstreams: [`127.0.0.1:${opts.apiPort}`],
      webUpstreams: [`127.0.0.1:${opts.webPort}`],
      listenPort: opts.port,
      workDir: opts.dir,
      accessLog: false,
    }),
  );
  const proc = startProcess('nginx', nginxBinary(), nginxArgs(conf, opts.dir), {
    env: { PATH: process.env.PATH },
  });
  const origin = `http://127.0.0.1:${opts.port}`;
  try {
    await waitForHttp(`${origin}/healthz`, 'nginx', {
      timeoutMs: 20_000,
      alive: proc.running,
      describe: () => proc.output(),
    });
    await waitForHttp(`${origin}/login`, 'the web app through nginx', {
      timeoutMs: 30_000,
      alive: proc.running,
      describe: () => proc.output(),
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

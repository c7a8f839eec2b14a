/**
 * A backend replica as its own OS process (`node --import tsx backend/src/main.ts`, nothing built),
 * on a free loopback port. Its stdout/stderr go to a log file; warnings and errors (pino level
 * >= 40) are also kept in memory so the benchmark can report them. Stopped by PID, never by name.
 * No vitest imports here: this runs as a plain script.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/services.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Replica {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  /** Log lines at warn level or above (capped), plus any non-JSON output. */
  readonly problems: LogLine[];
  /** How many warn/error/fatal lines were seen in total (the list above is capped). */
  problemCount(): number;
  alive(): boolean;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM to this PID, SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const KEEP_PROBLEMS = 200;

export async function startReplica(opts: {
  name: string;
  root: string;
  logDir: string;
  env: Record<string, string>;
  startTimeoutMs?: number;
  /** Script to run, relative to root (default: the backend, `backend/src/main.ts`). */
  entry?: string;
  /** Extra node options after `--import tsx` (e.g. `--expose-gc`, `--cpu-prof`). */
  nodeArgs?: string[];
}): Promise<Replica> {
  const port = await freePort();
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ...(opts.nodeArgs ?? []),
      join(opts.root, opts.entry ?? 'backend/src/main.ts'),
    ],
    {
      cwd: opts.root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(port),
        INSTANCE_ID: opts.name,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`replica ${opts.name} did not start`);

  const problems: LogLine[] = [];
  let problemTotal = 0;
  const note = (line: LogLine) => {
    problemTotal++;
    if (problems.length < KEEP_PROBLEMS) problems.push(line);
  };
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    log.write(chunk);
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      try {
        const parsed = JSON.parse(line) as LogLine;
        if (typeof parsed.level === 'number' && parsed.level >= 40) note(parsed);
      } catch {
        note({ level: 40, msg: `(stdout) ${line.slice(0, 500)}` });
      }
    }
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-4000);
    for (const line of chunk.split('\n')) {
      if (line.trim()) note({ level: 50, msg: `(stderr) ${line.slice(0, 500)}` });
    }
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      log.end();
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (!alive()) {
      throw new Error(
        `replica ${opts.name} exited during start-up (${child.exitCode ?? child.signalCode}): ${stderrTail}`,
      );
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`replica ${opts.name} was not ready within the start timeout: ${stderrTail}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    name: opts.name,
    url,
    port,
    pid,
    logFile,
    problems,
    problemCount: () => problemTotal,
    alive,
    exited,
    async stop(graceMs = 15_000) {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (alive()) child.kill('SIGKILL');
      }, graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

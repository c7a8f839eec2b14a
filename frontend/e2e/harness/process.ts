/**
 * Child processes for the end-to-end harness: started with their output captured, stopped by
 * PID (SIGTERM, then SIGKILL after a grace period), and killed by PID if the test process exits
 * while they still run (a crashed or timed-out worker must not leave servers behind).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Managed {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr as they came (the last ~200 kB). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_OUTPUT = 200_000;

/** PIDs still running that this process started: killed if it exits without stopping them. */
const live = new Set<number>();
let exitHookInstalled = false;

/** Remembers a PID to SIGKILL should this process exit before it is stopped. */
export function trackPid(pid: number, exited: Promise<unknown>): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of live) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
  live.add(pid);
  void exited.then(() => live.delete(pid));
}

export function startProcess(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env: NodeJS.ProcessEnv },
): Managed {
  const child: ChildProcess = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > MAX_OUTPUT) out = out.slice(-MAX_OUTPUT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // spawn failures (ENOENT) emit `error` and no `exit`.
    child.once('error', (err) => {
      append(Buffer.from(`\n[harness] ${name} failed to start: ${err.message}\n`));
      resolve({ code: -1, signal: null });
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) trackPid(pid, exited);
  let done = false;
  void exited.then(() => (done = true));
  return {
    name,
    pid,
    output: () => out,
    exited,
    running: () => !done,
    async stop(graceMs = 10_000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!done) child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `url` until it answers (any status below 500; redirects are not followed), or throws
 * with `describe()` (for example the process output) if `alive()` turns false or time runs out.
 */
export async function waitForHttp(
  url: string,
  what: string,
  opts: { timeoutMs?: number; alive?: () => boolean; describe?: () => string } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (opts.alive && !opts.alive()) {
      throw new Error(`${what} exited during start-up:\n${opts.describe?.() ?? ''}`);
    }
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} did not answer at ${url} within ${timeoutMs / 1000} s (${last})\n${opts.describe?.() ?? ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

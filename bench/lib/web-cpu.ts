/**
 * CPU accounting for `npm run bench:web`: the CPU seconds of this process and every process it
 * started (Redis, FerretDB, the replica, the web app, nginx, chromium and its helpers), read from
 * /proc, against the busy seconds of the whole machine, so that a phase which competed with other
 * work on the machine can be flagged.
 */
import { machineBusySeconds, treeCpuSeconds } from './memory.js';

export interface CpuMark {
  ours: number | null;
  machine: number | null;
}

export function cpuMark(): CpuMark {
  return { ours: treeCpuSeconds(process.pid), machine: machineBusySeconds() };
}

/** CPU seconds between two marks: ours (this process tree) and others (the rest of the machine). */
export function cpuSince(a: CpuMark, b: CpuMark = cpuMark()) {
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const ours = a.ours !== null && b.ours !== null ? b.ours - a.ours : null;
  const machine = a.machine !== null && b.machine !== null ? b.machine - a.machine : null;
  return {
    ours: ours === null ? null : r2(ours),
    others: ours === null || machine === null ? null : r2(Math.max(0, machine - ours)),
  };
}

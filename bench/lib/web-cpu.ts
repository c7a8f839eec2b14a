/**
 * CPU accounting for `npm run bench:web`: the CPU seconds of this process and every process it
 * started (Redis, FerretDB, the replica, the web app, nginx, chromium and its helpers), read from
 * /proc, against the busy seconds of the whole machine, so that a phase which competed with other
 * work on the machine can be flagged.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { machineBusySeconds } from './memory.js';

/** user + system seconds of this process and all its descendants (USER_HZ 100), or null. */
export function treeCpuSeconds(root = process.pid): number | null {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start at field 3 (state).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(rest[1]));
      cpu.set(Number(e), (Number(rest[11]) + Number(rest[12])) / 100);
    } catch {
      /* the process ended meanwhile */
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parent) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

export interface CpuMark {
  ours: number | null;
  machine: number | null;
}

export function cpuMark(): CpuMark {
  return { ours: treeCpuSeconds(), machine: machineBusySeconds() };
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

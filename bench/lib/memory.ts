/**
 * Resource readings of a replica: VmRSS from /proc/<pid>/status (the kernel's view, read by this
 * process) and the replica's own Prometheus metrics (prom-client default metrics, prefix
 * `collabflow_`): heap, RSS as the process sees it, CPU seconds, event-loop lag, open sockets.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ResourceSample {
  replica: string;
  pid: number;
  /** VmRSS from /proc/<pid>/status, bytes (null when /proc is unavailable). */
  vmRssBytes: number | null;
  /** collabflow_process_resident_memory_bytes. */
  promRssBytes: number | null;
  /** collabflow_nodejs_heap_size_used_bytes. */
  heapUsedBytes: number | null;
  /** collabflow_nodejs_heap_size_total_bytes. */
  heapTotalBytes: number | null;
  /** collabflow_process_cpu_seconds_total (user + system, since start). */
  cpuSeconds: number | null;
  /**
   * collabflow_nodejs_eventloop_lag_p99_seconds / _max_seconds in ms. prom-client resets its
   * event-loop histogram at every scrape, so these cover the time since the previous sample.
   */
  eventLoopLagP99Ms: number | null;
  eventLoopLagMaxMs: number | null;
  /** collabflow_socket_connections. */
  socketConnections: number | null;
}

/** VmRSS of a process in bytes, or null (process gone, no /proc). */
export function vmRssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** user + system CPU seconds of a process from /proc/<pid>/stat (USER_HZ assumed 100), or null. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : null;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine since boot, all cores (from /proc/stat), or null. */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
      (a, b) => a + (b ?? 0),
      0,
    );
    return Number.isFinite(busy) ? busy / 100 : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds of a process and everything below it: each one's user + system time plus that of
 * its children that have already exited and been waited for (/proc/<pid>/stat fields 14-17). For
 * PostgreSQL, whose work happens in one backend process per connection, this counts the
 * backends; for a process without children it is procCpuSeconds. Null when the process is gone.
 */
export function treeCpuSeconds(root: number): number | null {
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
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(rest[1]));
      const [ut, st, cut, cst] = [11, 12, 13, 14].map((i) => Number(rest[i]));
      cpu.set(Number(e), ((ut ?? 0) + (st ?? 0) + (cut ?? 0) + (cst ?? 0)) / 100);
    } catch {
      /* the process ended meanwhile */
    }
  }
  if (!cpu.has(root)) return null;
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parent) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    total += cpu.get(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

/**
 * A process we only see from outside (Redis, FerretDB, PostgreSQL): VmRSS of the process itself
 * and CPU seconds of it and its descendants (PostgreSQL's backends), from /proc.
 */
export interface ProcSample {
  name: string;
  pid: number;
  vmRssBytes: number | null;
  cpuSeconds: number | null;
}

export function sampleProcess(name: string, pid: number): ProcSample {
  return { name, pid, vmRssBytes: vmRssBytes(pid), cpuSeconds: treeCpuSeconds(pid) };
}

/** Every sample of a Prometheus text exposition, keyed by `name{labels}` exactly as printed. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (cut <= 0) continue;
    const value = Number(line.slice(cut + 1));
    if (Number.isFinite(value)) out.set(line.slice(0, cut), value);
  }
  return out;
}

export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics: ${res.status}`);
  return parseMetrics(await res.text());
}

export async function sampleResources(replica: {
  name: string;
  pid: number;
  url: string;
}): Promise<ResourceSample> {
  const rss = vmRssBytes(replica.pid);
  let m = new Map<string, number>();
  try {
    m = await scrapeMetrics(replica.url);
  } catch {
    /* replica not answering: report what /proc says */
  }
  const get = (k: string) => m.get(k) ?? null;
  const ms = (k: string) => {
    const v = get(k);
    return v === null ? null : Math.round(v * 100_000) / 100;
  };
  return {
    replica: replica.name,
    pid: replica.pid,
    vmRssBytes: rss,
    promRssBytes: get('collabflow_process_resident_memory_bytes'),
    heapUsedBytes: get('collabflow_nodejs_heap_size_used_bytes'),
    heapTotalBytes: get('collabflow_nodejs_heap_size_total_bytes'),
    cpuSeconds: get('collabflow_process_cpu_seconds_total'),
    eventLoopLagP99Ms: ms('collabflow_nodejs_eventloop_lag_p99_seconds'),
    eventLoopLagMaxMs: ms('collabflow_nodejs_eventloop_lag_max_seconds'),
    socketConnections: get('collabflow_socket_connections'),
  };
}

/** Socket event outcomes other than `ok` (rate_limited, validation_failed, internal, ...). */
export function socketEventProblems(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of m) {
    if (!k.startsWith('collabflow_socket_events_total{')) continue;
    if (k.includes('outcome="ok"') || v === 0) continue;
    out[k.slice('collabflow_socket_events_total'.length)] = v;
  }
  return out;
}

export const mib = (bytes: number | null) =>
  bytes === null ? null : Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * The benchmark's report: resource phases, CPU accounting (ours vs the rest of the machine) and
 * the tables printed at the end of `npm run bench`.
 */
import type { ProcSample, ResourceSample } from './memory.js';
import { mib } from './memory.js';
import type { ExitInfo, Replica } from './replica.js';
import type { ScenarioResult } from './scenario.js';
import type { Summary } from './stats.js';

/** One resource reading of everything the benchmark started, at a named point of the run. */
export interface Phase {
  phase: string;
  samples: ResourceSample[];
  /** Redis, FerretDB and PostgreSQL (with its backends), seen from /proc. */
  services: ProcSample[];
  /** This benchmark process (the clients), from process.cpuUsage(). */
  benchCpuSeconds: number;
  /** Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat. */
  machineBusySeconds: number | null;
  loadAvg1m: number;
}

/**
 * CPU seconds between two phases: used by what this benchmark started (replicas, Redis, FerretDB,
 * PostgreSQL, itself) and by everything else on the machine (other users' processes compete for the cores).
 */
export function cpuBetween(a: Phase, b: Phase) {
  const d = (x: number | null | undefined, y: number | null | undefined) =>
    x === null || x === undefined || y === null || y === undefined ? 0 : y - x;
  let ours = d(a.benchCpuSeconds, b.benchCpuSeconds);
  for (const s of b.samples)
    ours += d(a.samples.find((x) => x.replica === s.replica)?.cpuSeconds, s.cpuSeconds);
  for (const s of b.services)
    ours += d(a.services.find((x) => x.name === s.name)?.cpuSeconds, s.cpuSeconds);
  const machine = d(a.machineBusySeconds, b.machineBusySeconds);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return { phase: b.phase, ours: r2(ours), others: r2(Math.max(0, machine - ours)) };
}

function table(head: string[], rows: (string | number | null)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

function latencyRow(label: string, s: Summary | null): (string | number | null)[] {
  return [label, s?.count ?? 0, s?.p50 ?? null, s?.p95 ?? null, s?.p99 ?? null, s?.max ?? null];
}

export function printReport(
  r: {
    scenarios: { chat: ScenarioResult; moves: ScenarioResult };
    ratios: Record<string, Record<string, number | null>>;
    benchProcessCpuSeconds: Record<string, number>;
    problems: {
      clientDisconnectsDuringRun: unknown[];
      socketEventOutcomesNotOk: Record<string, Record<string, number>>;
      replicaExit: Record<string, ExitInfo>;
    };
  },
  phases: Phase[],
  replicas: readonly Replica[],
  clients: number,
) {
  const { chat, moves } = r.scenarios;
  const out: string[] = [''];
  out.push('Throughput and acknowledgements (ms)');
  out.push(
    table(
      [
        'scenario',
        'sends',
        'acked',
        'failed',
        'acked/s',
        'ack p50',
        'ack p95',
        'ack p99',
        'ack max',
      ],
      [chat, moves].map((s) => [
        s.name,
        s.sends,
        s.acked,
        s.sends - s.acked,
        s.ackedPerSec,
        s.ackLatencyMs?.p50 ?? null,
        s.ackLatencyMs?.p95 ?? null,
        s.ackLatencyMs?.p99 ?? null,
        s.ackLatencyMs?.max ?? null,
      ]),
    ),
  );
  out.push('');
  out.push('Broadcast deliveries');
  out.push(
    table(
      ['scenario', 'expected', 'delivered', '%', 'dupes', 'recv/s', 'drain ms', 'seq inversions'],
      [chat, moves].map((s) => [
        s.name,
        s.deliveries.expected,
        s.deliveries.delivered,
        s.deliveries.percent,
        s.deliveries.duplicates,
        s.deliveries.receivedPerSec,
        s.deliveries.drainMs,
        s.seqInversions,
      ]),
    ),
  );
  out.push('');
  out.push('Send -> receipt latency (ms)');
  out.push(
    table(
      ['path', 'samples', 'p50', 'p95', 'p99', 'max'],
      [
        latencyRow('chat same-replica', chat.latencyMs.sameReplica),
        latencyRow('chat cross-replica', chat.latencyMs.crossReplica),
        latencyRow('chat sender echo', chat.latencyMs.senderEcho),
        latencyRow('moves same-replica', moves.latencyMs.sameReplica),
        latencyRow('moves cross-replica', moves.latencyMs.crossReplica),
        latencyRow('moves sender echo', moves.latencyMs.senderEcho),
      ],
    ),
  );
  out.push('');
  out.push("Fan-out delay: receipt minus the first receipt on the sender's replica (ms)");
  out.push(
    table(
      ['path', 'samples', 'p50', 'p95', 'p99', 'max'],
      [
        latencyRow('chat same-replica', chat.fanOutDelayMs.sameReplica),
        latencyRow('chat cross-replica', chat.fanOutDelayMs.crossReplica),
        latencyRow('moves same-replica', moves.fanOutDelayMs.sameReplica),
        latencyRow('moves cross-replica', moves.fanOutDelayMs.crossReplica),
      ],
    ),
  );
  out.push('');
  out.push('Cross-replica / same-replica latency');
  out.push(
    table(
      ['scenario', 'p50', 'p95', 'p99', 'max'],
      Object.entries(r.ratios).map(([k, v]) => [
        k,
        v.p50 ?? null,
        v.p95 ?? null,
        v.p99 ?? null,
        v.max ?? null,
      ]),
    ),
  );
  out.push('');
  out.push(
    'Replica resources (MiB; CPU s used since the previous row; loop lag since previous row)',
  );
  const rows: (string | number | null)[][] = [];
  for (const [pi, p] of phases.entries()) {
    for (const s of p.samples) {
      const prev = phases[pi - 1]?.samples.find((x) => x.replica === s.replica);
      const before = prev?.cpuSeconds ?? null;
      const cpu =
        before !== null && s.cpuSeconds !== null
          ? Math.round((s.cpuSeconds - before) * 100) / 100
          : null;
      rows.push([
        `${s.replica} ${p.phase}`,
        mib(s.vmRssBytes),
        mib(s.promRssBytes),
        mib(s.heapUsedBytes),
        mib(s.heapTotalBytes),
        cpu,
        s.eventLoopLagP99Ms,
        s.eventLoopLagMaxMs,
        s.socketConnections,
      ]);
    }
  }
  out.push(
    table(
      [
        'replica phase',
        'VmRSS',
        'prom RSS',
        'heapUsed',
        'heapTotal',
        'CPU s',
        'lag p99',
        'lag max',
        'sockets',
      ],
      rows,
    ),
  );
  const svcRows: (string | number | null)[][] = [];
  for (const [pi, p] of phases.entries()) {
    for (const s of p.services) {
      const before = phases[pi - 1]?.services.find((x) => x.name === s.name)?.cpuSeconds ?? null;
      svcRows.push([
        `${s.name} ${p.phase}`,
        mib(s.vmRssBytes),
        before !== null && s.cpuSeconds !== null
          ? Math.round((s.cpuSeconds - before) * 100) / 100
          : null,
      ]);
    }
  }
  out.push('');
  out.push(table(['service phase', 'VmRSS', 'CPU s'], svcRows));
  out.push(
    `bench process CPU s (client side, all ${clients} sockets): chat ${r.benchProcessCpuSeconds.chat}, moves ${r.benchProcessCpuSeconds.moves}`,
  );
  out.push('');
  out.push('CPU seconds per phase: what this benchmark started vs everything else on the machine');
  out.push(
    table(
      ['phase', 'ours', 'others', 'load 1m at end'],
      phases.slice(1).map((p, i) => {
        const c = cpuBetween(phases[i]!, p);
        return [p.phase, c.ours, c.others, p.loadAvg1m];
      }),
    ),
  );
  out.push('');
  out.push('Anything unusual');
  const notes: string[] = [];
  for (const s of [chat, moves]) {
    if (s.acked < s.sends) notes.push(`${s.name}: ack failures ${JSON.stringify(s.ackFailures)}`);
    if (s.deliveries.delivered < s.deliveries.expected)
      notes.push(
        `${s.name}: missing deliveries by path ${JSON.stringify(s.deliveries.missingByPath)}`,
      );
    if (s.deliveries.duplicates > 0)
      notes.push(`${s.name}: ${s.deliveries.duplicates} duplicate receipts`);
    if (s.deliveries.unknown > 0)
      notes.push(`${s.name}: ${s.deliveries.unknown} receipts of unknown sends`);
  }
  for (const [i, p] of phases.slice(1).entries()) {
    const c = cpuBetween(phases[i]!, p);
    if (c.others > 1 && c.others > 0.1 * c.ours)
      notes.push(
        `other processes on this machine used ${c.others} CPU s during "${p.phase}" (ours: ${c.ours}): the numbers of that phase are disturbed`,
      );
  }
  if (r.problems.clientDisconnectsDuringRun.length)
    notes.push(
      `client disconnects during the run: ${r.problems.clientDisconnectsDuringRun.length}`,
    );
  for (const [name, probs] of Object.entries(r.problems.socketEventOutcomesNotOk))
    if (Object.keys(probs).length)
      notes.push(`${name} socket events not ok: ${JSON.stringify(probs)}`);
  for (const rep of replicas) {
    if (rep.problemCount() > 0) {
      notes.push(`${rep.name}: ${rep.problemCount()} log lines at warn or above, e.g.:`);
      for (const p of rep.problems.slice(0, 5))
        notes.push(
          `    ${JSON.stringify({ level: p.level, msg: p.msg, err: (p.err as { message?: string } | undefined)?.message })}`,
        );
    }
  }
  for (const [name, e] of Object.entries(r.problems.replicaExit))
    if (e.code !== 0) notes.push(`${name} exited with ${e.code ?? e.signal} after SIGTERM`);
  out.push(
    notes.length
      ? notes.join('\n')
      : 'nothing: every send acked, every broadcast delivered once, no warnings in replica logs',
  );
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

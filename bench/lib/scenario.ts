/**
 * One closed-loop load scenario: a few worker clients (spread over both replicas) each keep one
 * acknowledged event in flight; every send carries a unique clientId, which the server copies into
 * the broadcast, so each receipt at each client is matched to its send. After the last ack the
 * scenario waits (bounded) for the remaining broadcasts, then reports what arrived and how fast.
 */
import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './stats.js';
import { call, type BenchClient, type DeliveryTracker, type SeqWatch } from './fleet.js';

export interface ScenarioResult {
  name: string;
  workers: { client: number; replica: string }[];
  sends: number;
  acked: number;
  ackFailures: Record<string, number>;
  /** First send to last acknowledgement. */
  durationMs: number;
  /** Successful acknowledgements per second over `durationMs`. */
  ackedPerSec: number;
  ackLatencyMs: Summary | null;
  /** Ack latency of sends from workers on each replica. */
  ackLatencyByReplicaMs: Record<string, Summary | null>;
  deliveries: {
    /** Acked sends × clients (every client, the sender included, should receive each one). */
    expected: number;
    delivered: number;
    percent: number;
    duplicates: number;
    unknown: number;
    missingByPath: Record<string, number>;
    /** Last receipt minus last ack: how long the broadcasts trailed the acknowledgements. */
    drainMs: number;
    /** True when some broadcasts were still missing when the drain wait ran out. */
    drainTimedOut: boolean;
    /** Broadcast receipts per second, first send to last receipt. */
    receivedPerSec: number;
  };
  /** Send → receipt (what a user sees: includes validation, persistence and publishing). */
  latencyMs: {
    sameReplica: Summary | null;
    crossReplica: Summary | null;
    senderEcho: Summary | null;
  };
  /** Receipt minus the first receipt on the sender's replica (the fan-out alone). */
  fanOutDelayMs: {
    sameReplica: Summary | null;
    crossReplica: Summary | null;
  };
  /** Events a client saw with a lower project seq than one it had already seen. */
  seqInversions: number;
}

export interface Send {
  event: string;
  payload: Record<string, unknown>;
}

export async function runScenario(opts: {
  name: string;
  total: number;
  workers: BenchClient[];
  tracker: DeliveryTracker;
  seq: SeqWatch;
  /** Builds send number `n` for `worker` (the payload's clientId is added here). */
  build: (n: number, worker: BenchClient) => Send;
  /** Called with each successful ack (for example to remember a task's new status). */
  onAck?: (n: number, worker: BenchClient, data: any) => void;
  ackTimeoutMs: number;
  drainTimeoutMs: number;
  progress: (line: string) => void;
}): Promise<ScenarioResult> {
  const { tracker, workers, total } = opts;
  opts.seq.reset();
  const ackMs: number[] = [];
  const ackByReplica: number[][] = [[], []];
  const failures: Record<string, number> = {};
  let acked = 0;
  let issued = 0;

  const ticker = setInterval(() => {
    opts.progress(
      `[${opts.name}] ${acked}/${total} acked, ${tracker.delivered}/${tracker.expected} broadcasts received`,
    );
  }, 2000);

  const start = performance.now();
  let lastAck = start;
  await Promise.all(
    workers.map(async (worker) => {
      for (;;) {
        const n = issued++;
        if (n >= total) return;
        const { event, payload } = opts.build(n, worker);
        const clientId = `${opts.name}-${n}`;
        tracker.markSent(clientId, worker.index);
        const t0 = performance.now();
        const ack = await call(worker.socket, event, { ...payload, clientId }, opts.ackTimeoutMs);
        const t1 = performance.now();
        if (ack.ok) {
          acked++;
          lastAck = Math.max(lastAck, t1);
          ackMs.push(t1 - t0);
          ackByReplica[worker.replica]?.push(t1 - t0);
          opts.onAck?.(n, worker, ack.data);
        } else {
          const code = ack.error?.code ?? 'unknown';
          failures[code] = (failures[code] ?? 0) + 1;
          tracker.unmark(clientId);
        }
      }
    }),
  );
  const durationMs = lastAck - start;

  // Let the remaining broadcasts arrive (bounded).
  const drainStart = performance.now();
  while (
    tracker.delivered < tracker.expected &&
    performance.now() - drainStart < opts.drainTimeoutMs
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const drainTimedOut = tracker.delivered < tracker.expected;
  const lastReceipt = tracker.lastReceiptAt || performance.now();
  const drainMs = Math.max(0, lastReceipt - lastAck);
  clearInterval(ticker);
  opts.progress(
    `[${opts.name}] done: ${acked}/${total} acked in ${(durationMs / 1000).toFixed(1)} s, ` +
      `${tracker.delivered}/${tracker.expected} broadcasts received (drain ${Math.round(drainMs)} ms)`,
  );

  const expected = tracker.expected;
  const fanOut = tracker.fanOutDelays();
  return {
    name: opts.name,
    workers: workers.map((w) => ({ client: w.index, replica: `r${w.replica + 1}` })),
    sends: total,
    acked,
    ackFailures: failures,
    durationMs: Math.round(durationMs),
    ackedPerSec: durationMs > 0 ? Math.round((acked / durationMs) * 1000 * 10) / 10 : 0,
    ackLatencyMs: summarize(ackMs),
    ackLatencyByReplicaMs: {
      r1: summarize(ackByReplica[0] ?? []),
      r2: summarize(ackByReplica[1] ?? []),
    },
    deliveries: {
      expected,
      delivered: tracker.delivered,
      percent: expected > 0 ? Math.round((tracker.delivered / expected) * 100_000) / 1000 : 0,
      duplicates: tracker.duplicates,
      unknown: tracker.unknown,
      missingByPath: tracker.missingByPath(),
      drainMs: Math.round(drainMs),
      drainTimedOut,
      receivedPerSec:
        lastReceipt > start
          ? Math.round((tracker.delivered / (lastReceipt - start)) * 1000 * 10) / 10
          : 0,
    },
    latencyMs: {
      sameReplica: summarize(tracker.sameReplica),
      crossReplica: summarize(tracker.crossReplica),
      senderEcho: summarize(tracker.echo),
    },
    fanOutDelayMs: {
      sameReplica: summarize(fanOut.sameReplica),
      crossReplica: summarize(fanOut.crossReplica),
    },
    seqInversions: opts.seq.inversions,
  };
}

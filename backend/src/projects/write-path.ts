import { randomUUID } from 'node:crypto';
import mongoose, { Schema, Types } from 'mongoose';
import type { Redis } from 'ioredis';
import type { AnyDomainEvent, DomainEventData, DomainEventType } from '@collabflow/shared';
import { AppError, errors } from '../core/errors.js';
import type { EventBus } from '../core/event-bus.js';
import type { Logger } from '../core/logger.js';
import { MemoryEventLog, RedisEventLog, type EventLog } from '../realtime/event-log.js';
import { Project } from './project.model.js';

/**
 * The one path every change of a project takes ([W1]–[W6] in docs/protocol.md; [W7], the board
 * cache that task changes read under the lease, is tasks/board-cache.ts):
 *
 *   queue (per project, in process, bounded) → lease (a short Redis lock across replicas, which
 *   also reads the project's seq) → plan (reads and checks, builds the event with seq + 1) →
 *   outbox record → the write → commit (seq, event-log append and lock release in one Lua call)
 *   → publish on the bus (broadcast) → the outbox record is deleted.
 *
 * So `seq` order is commit order; a change that fails takes no seq; a version-less change is
 * never raced (it waits its turn); an overloaded project refuses at once with `overloaded`; and a
 * change stored by a process that died before publishing is published by whoever takes the
 * project's lock next, or by the periodic sweep. Without Redis the lock, counter and log live in
 * the process (one replica).
 */

/** What a write publishes (built before the write, with the seq it will take). */
export interface PlannedEvent<T extends DomainEventType = DomainEventType> {
  type: T;
  actor: string;
  data: DomainEventData[T];
  clientId?: string;
}

/** How a later reader tells whether the write landed: a document matching `filter` exists (or not). */
export interface LandedCheck {
  collection: string;
  filter: Record<string, unknown>;
  exists: boolean;
}

export interface Plan<R> {
  event: PlannedEvent;
  landed: LandedCheck;
  /** The write itself. When it throws, no seq is taken and nothing is published. */
  apply(): Promise<void>;
  result: R;
}

export interface WriteOptions {
  /** Max changes waiting per project in this replica; beyond it, `overloaded` at once. */
  queueLimit: number;
  /** How long a lease lives if its holder dies (ms). */
  lockTtlMs: number;
  /** How long a change waits for another replica's lease before `overloaded` (ms). */
  lockWaitMs: number;
  /** How often stranded outbox records are looked for (ms); 0 turns the sweep off. */
  sweepMs: number;
  eventLogSize: number;
  /**
   * Fault injection for tests ([W5]): the process kills itself with SIGKILL right after storing a
   * change of this event type, before publishing it. Refused in production (config.ts).
   */
  dieAfterWrite?: string;
}

export const DEFAULT_WRITE_OPTIONS: WriteOptions = {
  queueLimit: 200,
  lockTtlMs: 5000,
  lockWaitMs: 3000,
  sweepMs: 5000,
  eventLogSize: 500,
};

/** Seq numbers skipped when a project's counter is rebuilt from its checkpoint ([W6]). */
export const SEQ_REBUILD_MARGIN = 10_000;
/**
 * How long Redis remembers that an outbox record was published (s): far longer than a record
 * normally lives (it is deleted within a second of its commit, and a stranded one is found within
 * WRITE_LOCK_TTL + OUTBOX_SWEEP).
 */
const PUBLISHED_MARK_TTL_S = 600;
/** Published outbox records are deleted in batches, off the write path. */
const DELETE_BATCH_MS = 50;
/** Consecutive changes one lease may carry before it is handed back (fairness across replicas). */
const MAX_BATCH = 16;

// ---------- the outbox ----------

interface OutboxDoc {
  _id: Types.ObjectId;
  projectId: string;
  event: AnyDomainEvent;
  landed: LandedCheck;
  createdAt: Date;
}

const outboxSchema = new Schema<OutboxDoc>(
  {
    projectId: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    landed: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'outbox' },
);
outboxSchema.index({ createdAt: 1 });
outboxSchema.index({ projectId: 1, createdAt: 1 });

export const Outbox = mongoose.model<OutboxDoc>('Outbox', outboxSchema);

export function overloaded(retryAfterMs: number, why: string): AppError {
  const ms = Math.max(50, Math.ceil(retryAfterMs));
  return new AppError(
    503,
    'overloaded',
    `${why}; retry in ${(ms / 1000).toFixed(1)} s`,
    { retryAfterMs: ms },
    { 'Retry-After': String(Math.ceil(ms / 1000)) },
  );
}

// ---------- the sequencer: lease, counter and log ----------

export interface Lease {
  projectId: string;
  token: string;
  /** The project's last seq (null: the counter is missing and must be rebuilt). */
  seq: number | null;
  /** The previous holder died holding the lease: its outbox records may be unpublished. */
  dirty: boolean;
  acquiredAt: number;
}

/** Lease, counter and log of every project: one contract, in Redis or in the process. */
export interface Sequencer {
  readonly log: EventLog;
  /**
   * One attempt; null when another replica holds the lease. `token` names the waiter across its
   * attempts: the first waiter refused is next in line, so a replica with a long queue cannot
   * take the lease back before the other replica had its turn.
   */
  tryAcquire(projectId: string, token: string): Promise<Lease | null>;
  /** Sets the counter to `seq` if it is missing (a rebuild). Returns the counter's value. */
  initCounter(projectId: string, seq: number): Promise<number>;
  /** Appends `event` (seq, log, published mark) if the lease is still ours; `release` hands it back. */
  commit(
    lease: Lease,
    event: AnyDomainEvent | null,
    outboxId: string | null,
    release: boolean,
  ): Promise<boolean>;
  isPublished(projectId: string, outboxId: string): Promise<boolean>;
  current(projectIds: string[]): Promise<(number | null)[]>;
  forget(projectId: string): Promise<void>;
}

const keys = (projectId: string) => {
  // One hash tag per project: every key of a change lands on the same Redis Cluster slot.
  const base = `collabflow:{${projectId}}`;
  return {
    lock: `${base}:lock`,
    next: `${base}:next`,
    seq: `${base}:seq`,
    dirty: `${base}:dirty`,
    log: `${base}:events`,
    published: (id: string) => `${base}:published:${id}`,
  };
};

const ACQUIRE = `
local next = redis.call('GET', KEYS[4])
if (not next or next == ARGV[1]) and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if next then redis.call('DEL', KEYS[4]) end
  local dirty = redis.call('GET', KEYS[3])
  redis.call('SET', KEYS[3], ARGV[1])
  return {1, redis.call('GET', KEYS[2]), dirty}
end
if not next then
  redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[3])
elseif next == ARGV[1] then
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
end
return {0}`;

/** A waiter next in line that stops asking (its replica died) loses its place after this. */
const NEXT_IN_LINE_MS = 200;

const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(tonumber(ARGV[4]) + 1))
  redis.call('EXPIRE', KEYS[4], ARGV[5])
  if KEYS[5] ~= KEYS[1] then redis.call('SET', KEYS[5], '1', 'EX', ARGV[6]) end
end
if ARGV[7] == '1' then
  redis.call('DEL', KEYS[1], KEYS[3])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
end
return 1`;

export class RedisSequencer implements Sequencer {
  readonly log: EventLog;
  constructor(
    private readonly redis: Redis,
    private readonly opts: WriteOptions,
  ) {
    this.log = new RedisEventLog(redis, opts.eventLogSize, (p) => keys(p).log);
  }

  async tryAcquire(projectId: string, token: string): Promise<Lease | null> {
    const k = keys(projectId);
    const res = (await this.redis.eval(
      ACQUIRE,
      4,
      k.lock,
      k.seq,
      k.dirty,
      k.next,
      token,
      String(this.opts.lockTtlMs),
      String(NEXT_IN_LINE_MS),
    )) as [number, string | null, string | null] | [number];
    if (res[0] !== 1) return null;
    const [, seq, dirty] = res as [number, string | null, string | null];
    return {
      projectId,
      token,
      seq: seq === null ? null : Number(seq),
      dirty: dirty !== null,
      acquiredAt: Date.now(),
    };
  }

  async initCounter(projectId: string, seq: number): Promise<number> {
    const k = keys(projectId);
    await this.redis.set(k.seq, String(seq), 'NX');
    return Number(await this.redis.get(k.seq));
  }

  async commit(
    lease: Lease,
    event: AnyDomainEvent | null,
    outboxId: string | null,
    release: boolean,
  ): Promise<boolean> {
    const k = keys(lease.projectId);
    const ok = await this.redis.eval(
      COMMIT,
      5,
      k.lock,
      k.seq,
      k.dirty,
      k.log,
      outboxId ? k.published(outboxId) : k.lock,
      lease.token,
      event ? String(event.seq) : '0',
      event ? JSON.stringify(event) : '',
      String(this.opts.eventLogSize),
      String(7 * 86_400),
      String(PUBLISHED_MARK_TTL_S),
      release ? '1' : '0',
      String(this.opts.lockTtlMs),
    );
    return ok === 1;
  }

  async isPublished(projectId: string, outboxId: string): Promise<boolean> {
    return (await this.redis.exists(keys(projectId).published(outboxId))) === 1;
  }

  async current(projectIds: string[]): Promise<(number | null)[]> {
    if (projectIds.length === 0) return [];
    const raw = await this.redis.mget(projectIds.map((p) => keys(p).seq));
    return raw.map((v) => (v === null ? null : Number(v)));
  }

  async forget(projectId: string): Promise<void> {
    const k = keys(projectId);
    await this.redis.del(k.seq, k.log, k.dirty);
  }
}

/** One replica without Redis: the same contract in memory. */
export class LocalSequencer implements Sequencer {
  readonly log: MemoryEventLog;
  readonly #seq = new Map<string, number>();
  readonly #held = new Map<string, string>();
  /** The last ids published (insertion order; bounded). */
  readonly #published = new Set<string>();
  constructor(opts: WriteOptions) {
    this.log = new MemoryEventLog(opts.eventLogSize);
  }

  async tryAcquire(projectId: string, token: string): Promise<Lease | null> {
    // One process: its queue already takes turns; there is no other replica to wait for.
    if (this.#held.has(projectId)) return null;
    this.#held.set(projectId, token);
    return {
      projectId,
      token,
      seq: this.#seq.get(projectId) ?? null,
      dirty: false,
      acquiredAt: Date.now(),
    };
  }

  async initCounter(projectId: string, seq: number): Promise<number> {
    if (!this.#seq.has(projectId)) this.#seq.set(projectId, seq);
    return this.#seq.get(projectId)!;
  }

  async commit(
    lease: Lease,
    event: AnyDomainEvent | null,
    outboxId: string | null,
    release: boolean,
  ): Promise<boolean> {
    if (this.#held.get(lease.projectId) !== lease.token) return false;
    if (event) {
      this.#seq.set(lease.projectId, event.seq);
      await this.log.append(event);
      if (outboxId) {
        this.#published.add(outboxId);
        if (this.#published.size > 10_000) {
          this.#published.delete(this.#published.values().next().value as string);
        }
      }
    }
    if (release) this.#held.delete(lease.projectId);
    return true;
  }

  async isPublished(_projectId: string, outboxId: string): Promise<boolean> {
    return this.#published.delete(outboxId);
  }

  async current(projectIds: string[]): Promise<(number | null)[]> {
    return projectIds.map((p) => this.#seq.get(p) ?? null);
  }

  async forget(projectId: string): Promise<void> {
    this.#seq.delete(projectId);
  }
}

// ---------- the per-project queue and the write path ----------

interface Job {
  run(lease: Lease): Promise<void>;
  fail(err: unknown): void;
}

interface ProjectQueue {
  jobs: Job[];
  running: boolean;
  /** Recent service times (ms) for the retry hint. */
  avgMs: number;
}

export interface WriteResult<R> {
  result: R;
  /**
   * The published event; absent in the rare case where the change was stored but the lease was
   * lost before it could be published (the outbox sweep publishes it within `sweepMs`).
   */
  event?: AnyDomainEvent;
}

export class ProjectWrites {
  readonly #seqr: Sequencer;
  readonly #queues = new Map<string, ProjectQueue>();
  readonly #opts: WriteOptions;
  readonly #log: Logger;
  #bus: EventBus | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #redis: Redis | undefined;

  constructor(opts: { redis?: Redis; logger: Logger; options?: Partial<WriteOptions> }) {
    this.#opts = { ...DEFAULT_WRITE_OPTIONS, ...opts.options };
    this.#log = opts.logger.child({ component: 'writes' });
    this.#redis = opts.redis;
    this.#seqr = opts.redis
      ? new RedisSequencer(opts.redis, this.#opts)
      : new LocalSequencer(this.#opts);
  }

  /** The event log that join:project and SSE replay from. */
  get log(): EventLog {
    return this.#seqr.log;
  }

  /** Starts publishing on `bus`, drains what earlier processes left, and sweeps periodically. */
  start(bus: EventBus): void {
    this.#bus = bus;
    void this.sweep(this.#redis ? this.#opts.lockTtlMs : 0);
    if (this.#opts.sweepMs > 0) {
      this.#sweepTimer = setInterval(
        () => void this.sweep(this.#opts.lockTtlMs),
        this.#opts.sweepMs,
      );
      this.#sweepTimer.unref();
    }
  }

  /** Stops the sweep and deletes the records of what was published. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    if (this.#deleteTimer) clearTimeout(this.#deleteTimer);
    await this.#flushDeletes();
  }

  /** The project's current seq (0 for a project without events). */
  async current(projectId: string): Promise<number> {
    const [seq] = await this.currentMany([projectId]);
    return seq ?? 0;
  }

  async currentMany(projectIds: string[]): Promise<number[]> {
    const ids = projectIds.map((p) => p.toLowerCase());
    let raw: (number | null)[];
    try {
      raw = await this.#seqr.current(ids);
    } catch {
      // Redis is away: the checkpoint is never newer than the truth, so a snapshot read with it
      // can only replay events it already has (idempotent), never skip one. Reads go on ([F1]).
      return checkpoints(ids);
    }
    return Promise.all(
      raw.map(async (v, i) =>
        v !== null ? v : this.#seqr.initCounter(ids[i]!, await rebuiltSeq(ids[i]!)),
      ),
    );
  }

  /** Drops the project's counter and log (the project is deleted). */
  async forget(projectId: string): Promise<void> {
    await this.#seqr.forget(projectId.toLowerCase()).catch(() => undefined);
  }

  /**
   * Runs one change of the project on the serialized path. `plan(seq)` reads what it needs, checks
   * (throwing an AppError changes nothing) and says what to write and publish with `seq`.
   */
  run<R>(projectId: string, plan: (seq: number) => Promise<Plan<R>>): Promise<WriteResult<R>> {
    if (this.#closed) return Promise.reject(errors.unavailable('the server is shutting down'));
    const pid = projectId.toLowerCase();
    let q = this.#queues.get(pid);
    if (!q) this.#queues.set(pid, (q = { jobs: [], running: false, avgMs: 5 }));
    if (q.jobs.length >= this.#opts.queueLimit) {
      return Promise.reject(
        overloaded(
          q.jobs.length * q.avgMs,
          `too many changes are waiting in this project (${q.jobs.length})`,
        ),
      );
    }
    return new Promise<WriteResult<R>>((resolve, reject) => {
      q.jobs.push({
        run: async (lease) => resolve(await this.#execute(lease, plan)),
        fail: reject,
      });
      if (!q.running) void this.#drain(pid, q);
    });
  }

  /** Runs the queue of one project: one lease carries up to MAX_BATCH changes. */
  async #drain(pid: string, q: ProjectQueue): Promise<void> {
    q.running = true;
    try {
      while (q.jobs.length > 0) {
        let lease: Lease;
        try {
          lease = await this.#acquire(pid, q);
        } catch (err) {
          // No lease: everyone waiting gets the same answer at once (never left unanswered).
          for (const job of q.jobs.splice(0)) job.fail(err);
          break;
        }
        for (let n = 1; ; n++) {
          const job = q.jobs.shift()!;
          const started = Date.now();
          try {
            await job.run(lease);
          } catch (err) {
            job.fail(err);
          }
          q.avgMs = q.avgMs * 0.8 + (Date.now() - started) * 0.2;
          // The lease was lost (expired, or Redis went away): nothing of ours to hand back.
          if (lease.seq === null) break;
          // Keep the lease for the next queued change (each commit extends it), or hand it back
          // so that other replicas get their turn.
          const more =
            q.jobs.length > 0 &&
            n < MAX_BATCH &&
            Date.now() - lease.acquiredAt < this.#opts.lockTtlMs / 2;
          if (!more) {
            await this.#seqr.commit(lease, null, null, true).catch(() => false);
            break;
          }
        }
      }
    } finally {
      q.running = false;
      if (q.jobs.length === 0) this.#queues.delete(pid);
      else void this.#drain(pid, q);
    }
  }

  #lastUnavailableLog = 0;
  #published: Types.ObjectId[] = [];
  #deleteTimer: NodeJS.Timeout | undefined;

  /** Deletes published outbox records in batches (a record left behind is never republished). */
  #forgetRecord(id: Types.ObjectId): void {
    this.#published.push(id);
    this.#deleteTimer ??= setTimeout(() => void this.#flushDeletes(), DELETE_BATCH_MS);
  }

  async #flushDeletes(): Promise<void> {
    this.#deleteTimer = undefined;
    const ids = this.#published.splice(0);
    if (ids.length > 0) await Outbox.deleteMany({ _id: { $in: ids } }).catch(() => undefined);
  }

  #unavailable(err: unknown): AppError {
    if (err instanceof AppError) return err;
    // The Redis connections already log the outage once ("refusing changes"); this is detail.
    if (Date.now() - this.#lastUnavailableLog > 30_000) {
      this.#lastUnavailableLog = Date.now();
      this.#log.debug({ err }, 'change refused: the project sequencer (Redis) is unreachable');
    }
    return errors.unavailable(
      'changes cannot be stored while the realtime store (Redis) is unreachable; retry in a few seconds',
    );
  }

  async #acquire(pid: string, q: ProjectQueue): Promise<Lease> {
    const deadline = Date.now() + this.#opts.lockWaitMs;
    const token = randomUUID();
    for (let attempt = 0; ; attempt++) {
      let lease: Lease | null;
      try {
        lease = await this.#seqr.tryAcquire(pid, token);
      } catch (err) {
        throw this.#unavailable(err);
      }
      if (lease) {
        try {
          if (lease.seq === null)
            lease.seq = await this.#seqr.initCounter(pid, await rebuiltSeq(pid));
          // A record younger than a lease may belong to a writer that is slow, not dead.
          if (lease.dirty) await this.#recover(lease, this.#opts.lockTtlMs);
        } catch (err) {
          await this.#seqr.commit(lease, null, null, true).catch(() => false);
          throw this.#unavailable(err);
        }
        return lease;
      }
      if (Date.now() >= deadline) {
        throw overloaded(
          (q.jobs.length + 1) * q.avgMs,
          'another replica is busy writing to this project',
        );
      }
      // Another replica holds the lease (or is next in line): its changes take a few ms each.
      await new Promise((r) => setTimeout(r, Math.min(1 + attempt, 5) + Math.random() * 2));
    }
  }

  async #execute<R>(
    lease: Lease,
    plan: (seq: number) => Promise<Plan<R>>,
  ): Promise<WriteResult<R>> {
    const seq = (lease.seq ?? 0) + 1;
    const p = await plan(seq);
    const event = {
      type: p.event.type,
      projectId: lease.projectId,
      seq,
      at: new Date().toISOString(),
      actor: p.event.actor,
      data: p.event.data,
      ...(p.event.clientId !== undefined ? { clientId: p.event.clientId } : {}),
    } as AnyDomainEvent;
    const outboxId = new Types.ObjectId();
    await Outbox.collection.insertOne({
      _id: outboxId,
      projectId: lease.projectId,
      event,
      landed: p.landed,
      createdAt: new Date(),
    });
    try {
      await p.apply();
    } catch (err) {
      await Outbox.deleteOne({ _id: outboxId }).catch(() => undefined);
      throw err;
    }
    // Stored. From here the change is published: now, or by a recovery of the outbox record.
    if (this.#opts.dieAfterWrite === event.type) process.kill(process.pid, 'SIGKILL');
    let committed = false;
    try {
      committed = await this.#seqr.commit(lease, event, outboxId.toString(), false);
    } catch (err) {
      this.#log.warn({ err, projectId: lease.projectId }, 'commit failed; the outbox keeps it');
    }
    if (!committed) {
      // The lease is gone (expired, or Redis went away): the outbox sweep publishes it later.
      lease.seq = null;
      return { result: p.result };
    }
    lease.seq = seq;
    if (seq === 1 || seq % 100 === 0) await checkpoint(lease.projectId, seq);
    this.#bus?.publish(event);
    this.#forgetRecord(outboxId);
    return { result: p.result, event };
  }

  /**
   * Publishes the outbox records of a project that were stored but not published (their writer
   * died): under the lease, each gets the next seq. Records younger than `minAgeMs` may still
   * belong to a live writer and are left alone.
   */
  async #recover(lease: Lease, minAgeMs: number): Promise<void> {
    const records = await Outbox.find({ projectId: lease.projectId })
      .sort({ createdAt: 1 })
      .lean<OutboxDoc[]>();
    for (const r of records) {
      const id = r._id.toString();
      const old = Date.now() - r.createdAt.getTime() >= minAgeMs;
      if (await this.#seqr.isPublished(lease.projectId, id)) {
        await Outbox.deleteOne({ _id: r._id });
        continue;
      }
      const found =
        (await mongoose.connection
          .db!.collection(r.landed.collection)
          .countDocuments(r.landed.filter, { limit: 1 })) > 0;
      if (found !== r.landed.exists) {
        // Not stored: the writer died before its write (or failed); nothing to publish.
        if (old) await Outbox.deleteOne({ _id: r._id });
        continue;
      }
      const seq = (lease.seq ?? 0) + 1;
      const event = { ...r.event, seq } as AnyDomainEvent;
      if (!(await this.#seqr.commit(lease, event, id, false))) return;
      lease.seq = seq;
      await checkpoint(lease.projectId, seq);
      this.#log.info(
        { projectId: lease.projectId, type: event.type, seq },
        'published a stranded change',
      );
      this.#bus?.publish(event);
      await Outbox.deleteOne({ _id: r._id });
    }
  }

  /** Finds projects with outbox records older than `minAgeMs` and recovers them under their lease. */
  async sweep(minAgeMs: number): Promise<number> {
    if (this.#closed) return 0;
    try {
      const stale = await Outbox.distinct('projectId', {
        createdAt: { $lte: new Date(Date.now() - minAgeMs) },
      });
      for (const pid of stale as string[]) await this.#recoverNow(pid, minAgeMs);
      return stale.length;
    } catch (err) {
      this.#log.warn({ err }, 'outbox sweep failed; it runs again later');
      return 0;
    }
  }

  async #recoverNow(pid: string, minAgeMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let q = this.#queues.get(pid);
      if (!q) this.#queues.set(pid, (q = { jobs: [], running: false, avgMs: 5 }));
      q.jobs.push({
        run: async (lease) => {
          await this.#recover(lease, minAgeMs);
          resolve();
        },
        fail: reject,
      });
      if (!q.running) void this.#drain(pid, q);
    });
  }
}

/** The counter of a project rebuilt after Redis lost it: past every seq it handed out ([W6]). */
async function rebuiltSeq(projectId: string): Promise<number> {
  if (!Types.ObjectId.isValid(projectId)) return 0;
  const p = await Project.findById(projectId, { seq: 1 }).lean();
  return p && p.seq > 0 ? p.seq + SEQ_REBUILD_MARGIN : 0;
}

async function checkpoints(projectIds: string[]): Promise<number[]> {
  const valid = projectIds.filter((p) => Types.ObjectId.isValid(p));
  const docs = await Project.find({ _id: { $in: valid } }, { seq: 1 }).lean();
  const byId = new Map(docs.map((d) => [d._id.toString(), d.seq]));
  return projectIds.map((p) => byId.get(p) ?? 0);
}

/** The durable lower bound of the counter: written on the first event and every 100th. */
async function checkpoint(projectId: string, seq: number): Promise<void> {
  await Project.updateOne({ _id: projectId, seq: { $lt: seq } }, { $set: { seq } }).catch(
    () => undefined,
  );
}

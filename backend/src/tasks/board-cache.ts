import { Types } from 'mongoose';
import type { AnyDomainEvent, TaskDTO } from '@collabflow/shared';
import { Task, type TaskDoc } from './task.model.js';

/** Boards kept at most (least recently used first out), and how long an idle one lives. */
const MAX_BOARDS = 200;
const IDLE_MS = 5 * 60_000;
/** Events ahead of a gap kept per board; beyond it the board is read again. */
const MAX_PENDING = 1000;
/** How long a change waits for the events it has not seen yet before it reads the board. */
const CATCH_UP_MS = 25;

interface Board {
  /** The project seq this board is exact at. */
  seq: number;
  tasks: Map<string, TaskDoc>;
  /** Events after a gap, by seq, until the gap fills. */
  pending: Map<number, AnyDomainEvent>;
  used: number;
  waiters: Set<() => void>;
}

/** A task as stored, from the DTO an event carries. */
export function fromTaskDTO(t: TaskDTO): TaskDoc {
  return {
    _id: new Types.ObjectId(t.id),
    projectId: new Types.ObjectId(t.projectId),
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    assignee: t.assignee ? new Types.ObjectId(t.assignee) : null,
    dueDate: t.dueDate ? new Date(t.dueDate) : null,
    labels: [...t.labels],
    subtasks: t.subtasks.map((s) => ({
      _id: new Types.ObjectId(s.id),
      title: s.title,
      done: s.done,
    })),
    position: t.position,
    version: t.version,
    createdBy: new Types.ObjectId(t.createdBy),
    createdAt: new Date(t.createdAt),
    updatedAt: new Date(t.updatedAt),
  };
}

/**
 * The tasks of the projects this replica writes to, each exact at one project seq ([W7] in
 * docs/protocol.md). Every task change takes the project's write path, and every replica sees
 * every event in seq order (its own on the bus, the others' through Redis), so a board that has
 * applied the events up to seq S is the database's state at S. A change running under the lease
 * at seq S + 1 reads its task and column here instead of from the database; when the board is
 * behind (an event still crossing Redis) it waits a moment, then reads the project's tasks again.
 */
export class BoardCache {
  readonly #boards = new Map<string, Board>();
  hits = 0;
  reads = 0;

  /** The project's tasks exact at `seq` (the project's last committed seq). Do not mutate. */
  async at(projectId: string, seq: number): Promise<Map<string, TaskDoc>> {
    const pid = projectId.toLowerCase();
    const now = Date.now();
    let b = this.#boards.get(pid);
    if (b && b.seq < seq) {
      await this.#catchUp(b, seq);
    }
    if (b && b.seq === seq) {
      b.used = now;
      this.#boards.delete(pid);
      this.#boards.set(pid, b); // most recently used last
      this.hits++;
      return b.tasks;
    }
    this.reads++;
    const docs = await Task.find({ projectId: new Types.ObjectId(pid) }).lean<TaskDoc[]>();
    b = {
      seq,
      tasks: new Map(docs.map((d) => [d._id.toString(), d])),
      pending: new Map(),
      used: now,
      waiters: new Set(),
    };
    this.#boards.delete(pid);
    this.#boards.set(pid, b);
    this.#evict(now);
    return b.tasks;
  }

  /** Applies a committed event of any replica (in any order: gaps wait for their events). */
  apply(event: AnyDomainEvent): void {
    const b = this.#boards.get(event.projectId);
    if (!b) return;
    if (event.type === 'project:deleted') {
      this.forget(event.projectId);
      return;
    }
    if (event.seq <= b.seq) return;
    if (event.seq > b.seq + 1) {
      b.pending.set(event.seq, event);
      if (b.pending.size > MAX_PENDING) this.forget(event.projectId);
      return;
    }
    this.#applyOne(b, event);
    for (let next = b.pending.get(b.seq + 1); next; next = b.pending.get(b.seq + 1)) {
      b.pending.delete(next.seq);
      this.#applyOne(b, next);
    }
    for (const wake of b.waiters) wake();
  }

  forget(projectId: string): void {
    const b = this.#boards.get(projectId.toLowerCase());
    if (!b) return;
    this.#boards.delete(projectId.toLowerCase());
    for (const wake of b.waiters) wake();
  }

  #applyOne(b: Board, e: AnyDomainEvent): void {
    switch (e.type) {
      case 'task:created':
      case 'task:updated':
      case 'task:moved':
        // In place: a change reading this board holds the project's lease, so no event of the
        // project is committed (or applied here) until it is done.
        b.tasks.set(e.data.task.id, fromTaskDTO(e.data.task));
        break;
      case 'task:deleted':
        b.tasks.delete(e.data.taskId);
        break;
      default:
        break;
    }
    b.seq = e.seq;
  }

  /** Waits (briefly) until the board has applied the events up to `seq`. */
  async #catchUp(b: Board, seq: number): Promise<void> {
    const deadline = Date.now() + CATCH_UP_MS;
    while (b.seq < seq && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          b.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
        b.waiters.add(wake);
      });
    }
  }

  #evict(now: number): void {
    for (const [pid, b] of this.#boards) {
      if (this.#boards.size <= MAX_BOARDS && now - b.used < IDLE_MS) break;
      this.#boards.delete(pid);
    }
  }
}

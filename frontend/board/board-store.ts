/**
 * The board's state, outside React: tasks by id (the server's truth, changed by events in seq
 * order and by acknowledgements) plus optimistic overlays for moves still in flight, and the
 * ordered, filtered id list of each column. Components subscribe to slices: a card re-renders
 * when its own task changes, a column when its list of ids changes, never the whole board.
 */
import { generateKeyBetween } from 'fractional-indexing';
import {
  TASK_STATUSES,
  type AnyDomainEvent,
  type TaskDTO,
  type TaskPriority,
  type TaskStatus,
} from '@collabflow/shared';

export interface BoardFilter {
  text: string;
  assignee: string | null;
  priority: TaskPriority | null;
}

export const EMPTY_FILTER: BoardFilter = { text: '', assignee: null, priority: null };

export function matchesFilter(task: TaskDTO, f: BoardFilter): boolean {
  if (f.assignee && (f.assignee === 'none' ? task.assignee !== null : task.assignee !== f.assignee))
    return false;
  if (f.priority && task.priority !== f.priority) return false;
  const q = f.text.trim().toLowerCase();
  if (q) {
    const hay = `${task.title}\n${task.description}\n${task.labels.join(' ')}`.toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

interface Overlay {
  status: TaskStatus;
  position: string;
}

/** What a move sends to the server, and what it needs to undo. */
export interface MoveIntent {
  taskId: string;
  fromStatus: TaskStatus;
  toStatus: TaskStatus;
  afterId?: string;
  beforeId?: string;
  version: number;
}

const byPosition = (a: TaskDTO, b: TaskDTO) =>
  a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : 1;

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

type Columns = Record<TaskStatus, string[]>;
const emptyColumns = (): Columns => ({ todo: [], 'in-progress': [], review: [], done: [] });

export class BoardStore {
  private tasks = new Map<string, TaskDTO>();
  private overlays = new Map<string, Overlay>();
  private views = new Map<string, TaskDTO>();
  private columns: Columns = emptyColumns();
  private pendingIds = new Set<string>();
  private filter: BoardFilter = EMPTY_FILTER;
  private listeners = new Set<() => void>();
  private loaded = false;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  isLoaded = (): boolean => this.loaded;
  getTask = (id: string): TaskDTO | undefined => this.views.get(id);
  getColumn = (status: TaskStatus): readonly string[] => this.columns[status];
  isPending = (id: string): boolean => this.pendingIds.has(id);
  /** Every task (the server's version with overlays), for counts and lookups; not for rendering. */
  allTasks(): TaskDTO[] {
    return [...this.views.values()];
  }

  reset(tasks: TaskDTO[]): void {
    this.tasks = new Map(tasks.map((t) => [t.id, t]));
    this.loaded = true;
    this.rebuild(null);
  }

  setFilter(filter: BoardFilter): void {
    this.filter = filter;
    this.rebuild(null);
  }

  /** Applies one domain event (in seq order); others than task events are ignored here. */
  apply(event: AnyDomainEvent): void {
    switch (event.type) {
      case 'task:created':
      case 'task:updated':
      case 'task:moved':
        this.upsert(event.data.task);
        break;
      case 'task:deleted':
        if (this.tasks.delete(event.data.taskId)) {
          this.overlays.delete(event.data.taskId);
          this.rebuild(event.data.taskId);
        }
        break;
      default:
        break;
    }
  }

  /** The server's version of a task (from an ack, an event or a conflict); older versions lose. */
  upsert(task: TaskDTO): void {
    const have = this.tasks.get(task.id);
    if (have && have.version > task.version) return;
    if (have === task) return;
    this.tasks.set(task.id, task);
    this.rebuild(task.id);
  }

  remove(taskId: string): void {
    if (this.tasks.delete(taskId)) this.rebuild(taskId);
  }

  /**
   * Applies a drop at once: the task lands at `index` of the visible (filtered) column, with a
   * fractional position between its new neighbours in the full column. Returns what to send.
   */
  moveOptimistic(taskId: string, toStatus: TaskStatus, index: number): MoveIntent | null {
    const task = this.tasks.get(taskId);
    if (!task || this.pendingIds.has(taskId)) return null;
    // Start from the server's state: a drag preview is replaced by the real move.
    if (this.overlays.delete(taskId)) this.rebuild(taskId);
    const view = this.views.get(taskId);
    if (!view) return null;
    const position = this.positionAt(taskId, toStatus, index);
    if (position === null) return null;
    const visible = this.columns[toStatus].filter((id) => id !== taskId);
    const afterId = visible[index - 1];
    const beforeId = afterId === undefined ? visible[0] : undefined;
    this.overlays.set(taskId, { status: toStatus, position });
    this.pendingIds.add(taskId);
    this.rebuild(taskId);
    return {
      taskId,
      fromStatus: task.status,
      toStatus,
      ...(afterId !== undefined ? { afterId } : {}),
      ...(beforeId !== undefined ? { beforeId } : {}),
      version: task.version,
    };
  }

  /** Shows a card in another column while it is dragged there (nothing is sent). */
  preview(taskId: string, toStatus: TaskStatus, index: number): void {
    if (!this.tasks.has(taskId) || this.pendingIds.has(taskId)) return;
    const position = this.positionAt(taskId, toStatus, index, true);
    if (position === null) return;
    this.overlays.set(taskId, { status: toStatus, position });
    this.rebuild(taskId);
  }

  /** A drag was cancelled: the card goes back where the server has it. */
  cancelPreview(taskId: string): void {
    if (this.pendingIds.has(taskId)) return;
    if (this.overlays.delete(taskId)) this.rebuild(taskId);
  }

  /**
   * The fractional position for landing at `index` of the visible column (without the task);
   * null when the task would stay where it is.
   */
  private positionAt(
    taskId: string,
    toStatus: TaskStatus,
    index: number,
    allowSame = false,
  ): string | null {
    const view = this.views.get(taskId);
    if (!view) return null;
    const visible = this.columns[toStatus].filter((id) => id !== taskId);
    const full = this.sortedColumn(toStatus).filter((t) => t.id !== taskId);
    const afterId = visible[index - 1];
    const beforeId = afterId === undefined ? visible[0] : undefined;
    let after: TaskDTO | null = null;
    let before: TaskDTO | null = null;
    if (afterId !== undefined) {
      const i = full.findIndex((t) => t.id === afterId);
      after = full[i] ?? null;
      before = full[i + 1] ?? null;
    } else if (beforeId !== undefined) {
      const i = full.findIndex((t) => t.id === beforeId);
      after = full[i - 1] ?? null;
      before = full[i] ?? null;
    } else {
      after = full[full.length - 1] ?? null;
    }
    // Unchanged place: nothing to send.
    const cur = this.columns[view.status];
    if (!allowSame && view.status === toStatus && cur.indexOf(taskId) === index) return null;
    try {
      return generateKeyBetween(after?.position ?? null, before?.position ?? null);
    } catch {
      return null;
    }
  }

  /** A move was answered: drop the overlay and keep the server's task (snap back when absent). */
  settle(taskId: string, server?: TaskDTO): void {
    this.overlays.delete(taskId);
    this.pendingIds.delete(taskId);
    if (server) {
      const have = this.tasks.get(server.id);
      if (!have || have.version <= server.version) this.tasks.set(server.id, server);
    }
    this.rebuild(taskId);
  }

  private sortedColumn(status: TaskStatus): TaskDTO[] {
    return [...this.views.values()].filter((t) => t.status === status).sort(byPosition);
  }

  private rebuild(changed: string | null): void {
    // Views: the server's task with its overlay; identity kept for tasks that did not change.
    if (changed === null) {
      const views = new Map<string, TaskDTO>();
      for (const [id, t] of this.tasks) views.set(id, this.viewOf(t, this.views.get(id)));
      this.views = views;
    } else {
      const t = this.tasks.get(changed);
      if (t) this.views.set(changed, this.viewOf(t, this.views.get(changed)));
      else this.views.delete(changed);
    }
    const next = emptyColumns();
    const sorted = [...this.views.values()].sort(byPosition);
    for (const t of sorted) if (matchesFilter(t, this.filter)) next[t.status].push(t.id);
    for (const s of TASK_STATUSES) {
      if (!sameIds(next[s], this.columns[s])) this.columns[s] = next[s];
    }
    for (const l of this.listeners) l();
  }

  private viewOf(task: TaskDTO, previous: TaskDTO | undefined): TaskDTO {
    const o = this.overlays.get(task.id);
    if (!o) return task;
    if (
      previous &&
      previous.version === task.version &&
      previous.status === o.status &&
      previous.position === o.position &&
      previous.title === task.title
    )
      return previous;
    return { ...task, status: o.status, position: o.position };
  }
}

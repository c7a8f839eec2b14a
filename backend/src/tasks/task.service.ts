import { Types } from 'mongoose';
import {
  createTaskBody,
  listTasksQuery,
  moveTaskBody,
  updateTaskBody,
  type AnyDomainEvent,
  type TaskDTO,
  type TaskStatus,
  TASK_STATUSES,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { AppError, errors, parse } from '../core/errors.js';
import { NEEDS, requireProject, roleOf, toObjectId } from '../projects/access.js';
import { changeProject, type LandedCheck } from '../projects/events.js';
import { neighboursAt, positionBetween } from './ordering.js';
import { Task, toTaskDTO, type TaskDoc } from './task.model.js';

export interface Mutation<T> {
  result: T;
  /** Absent only when the change was stored but is published later by the outbox sweep. */
  event?: AnyDomainEvent;
}

/** Loads a task and checks the caller's role in its project; 404 for tasks the caller cannot see. */
async function loadTask(
  taskId: string,
  userId: string,
  needed: 'viewer' | 'member',
  projectId?: string,
) {
  const task = await Task.findById(toObjectId(taskId, 'task')).lean<TaskDoc>();
  if (!task || (projectId !== undefined && task.projectId.toString() !== projectId)) {
    throw errors.notFound('task');
  }
  try {
    await requireProject(task.projectId.toString(), userId, needed);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw errors.notFound('task');
    throw err;
  }
  return task;
}

/**
 * The task a change is about, and its project, with the caller's role checked. When the caller
 * names the project (socket events do), the role comes from the access cache and the task itself
 * is read once, on the project's write path (`fresh`); otherwise the task is read first to learn
 * its project.
 */
async function locateTask(
  taskId: string,
  userId: string,
  projectId: string | undefined,
): Promise<{ _id: Types.ObjectId; projectId: Types.ObjectId }> {
  if (projectId === undefined) return loadTask(taskId, userId, NEEDS.write);
  const _id = toObjectId(taskId, 'task');
  try {
    await requireProject(projectId, userId, NEEDS.write);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw errors.notFound('task');
    throw err;
  }
  return { _id, projectId: new Types.ObjectId(projectId) };
}

async function checkAssignee(projectId: string, assignee: string | null | undefined) {
  if (!assignee) return;
  // The assignee was validated as an object id by the schema; the access cache answers.
  if (!(await roleOf(projectId, assignee)))
    throw errors.validation('invalid task: assignee: must be a member of the project');
}

/** The last position of a column of the board (null for an empty column). */
function lastPosition(board: Map<string, TaskDoc>, status: TaskStatus): string | null {
  let last: string | null = null;
  for (const t of board.values())
    if (t.status === status && (last === null || t.position > last)) last = t.position;
  return last;
}

export async function listTasks(
  userId: string,
  projectId: string,
  query: unknown,
): Promise<TaskDTO[]> {
  await requireProject(projectId, userId, NEEDS.read);
  const q = parse(listTasksQuery, query, 'query');
  const filter: Record<string, unknown> = { projectId: new Types.ObjectId(projectId) };
  if (q.status) filter.status = q.status;
  if (q.assignee) filter.assignee = new Types.ObjectId(q.assignee);
  const tasks = await Task.find(filter).sort({ status: 1, position: 1 }).lean<TaskDoc[]>();
  // Board order: the column order of TASK_STATUSES, then position.
  const rank = new Map<string, number>(TASK_STATUSES.map((s, i) => [s, i]));
  return tasks
    .sort(
      (a, b) =>
        (rank.get(a.status) ?? 0) - (rank.get(b.status) ?? 0) ||
        (a.position < b.position ? -1 : a.position > b.position ? 1 : 0),
    )
    .map(toTaskDTO);
}

export async function getTask(userId: string, taskId: string): Promise<TaskDTO> {
  return toTaskDTO(await loadTask(taskId, userId, NEEDS.read));
}

export async function createTask(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
  body: unknown,
  clientId?: string,
): Promise<Mutation<TaskDTO>> {
  await requireProject(projectId, userId, NEEDS.write);
  const input = parse(createTaskBody, body, 'task');
  await checkAssignee(projectId, input.assignee);
  const pid = new Types.ObjectId(projectId);
  const status = input.status ?? 'todo';
  return changeProject(ctx, projectId, async (seq) => {
    // On the project's write path nobody else is appending to this column: no position race.
    const board = await ctx.boards.at(projectId, seq - 1);
    const now = new Date();
    const doc: TaskDoc = {
      _id: new Types.ObjectId(),
      projectId: pid,
      title: input.title,
      description: input.description ?? '',
      status,
      priority: input.priority ?? 'medium',
      assignee: input.assignee ? new Types.ObjectId(input.assignee) : null,
      dueDate: input.dueDate ? new Date(input.dueDate) : null,
      labels: input.labels ?? [],
      subtasks: (input.subtasks ?? []).map((st) => ({
        _id: new Types.ObjectId(),
        title: st.title,
        done: st.done,
      })),
      position: positionBetween(lastPosition(board, status), null),
      version: 0,
      createdBy: new Types.ObjectId(userId),
      createdAt: now,
      updatedAt: now,
    };
    const task = toTaskDTO(doc);
    return {
      event: { type: 'task:created', actor: userId, data: { task, createdBy: userId }, clientId },
      landed: { collection: Task.collection.name, filter: { _id: doc._id }, exists: true },
      apply: async () => {
        await new Task(doc).save({ timestamps: false });
      },
      result: task,
    };
  });
}

/**
 * The task as it is now and its project's board, on the project's write path at `seq` (the seq
 * this change takes): from the board cache ([W7]). 404 when the task is gone or elsewhere.
 */
async function fresh(
  ctx: ServiceContext,
  found: { _id: Types.ObjectId; projectId: Types.ObjectId },
  seq: number,
): Promise<{ task: TaskDoc; board: Map<string, TaskDoc> }> {
  const board = await ctx.boards.at(found.projectId.toString(), seq - 1);
  const task = board.get(found._id.toString());
  if (!task || !task.projectId.equals(found.projectId)) throw errors.notFound('task');
  return { task, board };
}

function checkVersion(current: TaskDoc, expected: number | undefined): void {
  if (expected !== undefined && current.version !== expected) {
    throw errors.conflict(
      'version_conflict',
      `the task was changed by someone else (now at version ${current.version}); reapply your change to it`,
      { task: toTaskDTO(current) },
    );
  }
}

/**
 * The next version of a task, written on the project's write path: the read, the version check
 * and the write cannot interleave with another change of the project, on any replica.
 */
function nextVersion(
  ctx: ServiceContext,
  current: TaskDoc,
  set: Record<string, unknown>,
): { after: TaskDoc; apply: () => Promise<void>; landed: LandedCheck } {
  const version = current.version + 1;
  const updatedAt = new Date();
  const after = { ...current, ...set, version, updatedAt } as TaskDoc;
  return {
    after,
    landed: {
      collection: Task.collection.name,
      filter: { _id: current._id, version },
      exists: true,
    },
    apply: async () => {
      const res = await Task.updateOne(
        { _id: current._id, version: current.version },
        { $set: { ...set, version, updatedAt } },
        { timestamps: false },
      );
      // Only a writer outside the write path (a script on the database) can get here: the
      // board is read again next time, and the caller gets the task as it is.
      if (res.matchedCount === 0) {
        ctx.boards.forget(current.projectId.toString());
        const now = await Task.findById(current._id).lean<TaskDoc>();
        if (!now) throw errors.notFound('task');
        checkVersion(now, current.version);
      }
    },
  };
}

export async function updateTask(
  ctx: ServiceContext,
  userId: string,
  taskId: string,
  body: unknown,
  opts: { projectId?: string; clientId?: string } = {},
): Promise<Mutation<TaskDTO>> {
  const found = await locateTask(taskId, userId, opts.projectId);
  const { version, ...fields } = parse(updateTaskBody, body, 'task update');
  const projectId = found.projectId.toString();
  await checkAssignee(projectId, fields.assignee);
  const set: Record<string, unknown> = { ...fields };
  if (fields.assignee !== undefined)
    set.assignee = fields.assignee ? new Types.ObjectId(fields.assignee) : null;
  if (fields.dueDate !== undefined) set.dueDate = fields.dueDate ? new Date(fields.dueDate) : null;
  if (fields.subtasks !== undefined)
    set.subtasks = fields.subtasks.map((st) => ({
      _id: new Types.ObjectId(),
      title: st.title,
      done: st.done,
    }));
  return changeProject(ctx, projectId, async (seq) => {
    const { task: current } = await fresh(ctx, found, seq);
    checkVersion(current, version);
    const { after, apply, landed } = nextVersion(ctx, current, set);
    const task = toTaskDTO(after);
    return {
      event: {
        type: 'task:updated',
        actor: userId,
        data: { taskId: task.id, updates: fields, task, updatedBy: userId },
        clientId: opts.clientId,
      },
      landed,
      apply,
      result: task,
    };
  });
}

export async function moveTask(
  ctx: ServiceContext,
  userId: string,
  taskId: string,
  body: unknown,
  opts: { projectId?: string; clientId?: string } = {},
): Promise<Mutation<TaskDTO>> {
  const input = parse(moveTaskBody, body, 'move');
  const found = await locateTask(taskId, userId, opts.projectId);
  const projectId = found.projectId.toString();
  return changeProject(ctx, projectId, async (seq) => {
    const { task: current, board } = await fresh(ctx, found, seq);
    const column = columnOf(board, input.status, current._id);
    checkVersion(current, input.version);
    const position = targetPosition(input, column);
    const { after, apply, landed } = nextVersion(ctx, current, { status: input.status, position });
    const newIndex = column.filter((t) => t.position < position).length;
    const dto = toTaskDTO(after);
    return {
      event: {
        type: 'task:moved',
        actor: userId,
        data: {
          taskId: dto.id,
          fromStatus: current.status,
          toStatus: input.status,
          newIndex,
          task: dto,
          movedBy: userId,
        },
        clientId: opts.clientId,
      },
      landed,
      apply,
      result: dto,
    };
  });
}

/** The tasks of a column of the board, in order (`except` left out). */
function columnOf(
  board: Map<string, TaskDoc>,
  status: TaskStatus,
  except: Types.ObjectId,
): TaskDoc[] {
  return [...board.values()]
    .filter((t) => t.status === status && !t._id.equals(except))
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

/** The fractional index for the move, from the named neighbours, an index, or the column's end. */
function targetPosition(
  input: { status: TaskStatus; beforeId?: string | null; afterId?: string | null; index?: number },
  column: { _id: Types.ObjectId; position: string }[],
): string {
  const positions = column.map((t) => t.position);
  const indexOf = (id: string, what: string) => {
    const i = column.findIndex((t) => t._id.toString() === id);
    if (i < 0)
      throw errors.validation(`invalid move: ${what} is not a task in the ${input.status} column`);
    return i;
  };
  let after: string | null;
  let before: string | null;
  if (input.afterId || input.beforeId) {
    const ai = input.afterId ? indexOf(input.afterId, 'afterId') : undefined;
    const bi = input.beforeId ? indexOf(input.beforeId, 'beforeId') : undefined;
    if (ai !== undefined && bi !== undefined && ai >= bi) {
      throw errors.validation('invalid move: afterId must come before beforeId in the column');
    }
    // Other tasks between the two named neighbours: no position is next to both of them.
    if (ai !== undefined && bi !== undefined && bi !== ai + 1) {
      throw errors.validation(
        'invalid move: afterId and beforeId must be next to each other in the column',
      );
    }
    after =
      ai !== undefined ? positions[ai]! : bi !== undefined ? (positions[bi - 1] ?? null) : null;
    before =
      bi !== undefined ? positions[bi]! : ai !== undefined ? (positions[ai + 1] ?? null) : null;
  } else if (input.index !== undefined) {
    ({ after, before } = neighboursAt(positions, input.index));
  } else {
    after = positions[positions.length - 1] ?? null;
    before = null;
  }
  return positionBetween(after, before);
}

export async function deleteTask(
  ctx: ServiceContext,
  userId: string,
  taskId: string,
  opts: { projectId?: string; clientId?: string } = {},
): Promise<Mutation<null>> {
  const found = await locateTask(taskId, userId, opts.projectId);
  const projectId = found.projectId.toString();
  return changeProject(ctx, projectId, async (seq) => {
    await fresh(ctx, found, seq);
    return {
      event: {
        type: 'task:deleted',
        actor: userId,
        data: { taskId: found._id.toString(), deletedBy: userId },
        clientId: opts.clientId,
      },
      landed: { collection: Task.collection.name, filter: { _id: found._id }, exists: false },
      apply: async () => {
        await Task.deleteOne({ _id: found._id });
      },
      result: null,
    };
  });
}

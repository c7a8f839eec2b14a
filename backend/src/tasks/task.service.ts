import { setTimeout as sleep } from 'node:timers/promises';
import { Types } from 'mongoose';
import {
  createTaskBody,
  listTasksQuery,
  moveTaskBody,
  updateTaskBody,
  type DomainEvent,
  type TaskDTO,
  type TaskStatus,
  TASK_STATUSES,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { AppError, errors, isDuplicateKeyError, parse } from '../core/errors.js';
import { Claim, claim, forgetAll, forgetBelow } from '../core/claims.js';
import { NEEDS, requireProject, roleOf, toObjectId } from '../projects/access.js';
import { publishEvent } from '../projects/events.js';
import { neighboursAt, positionBetween } from './ordering.js';
import { Task, toTaskDTO, type TaskDoc } from './task.model.js';

/** How often a write that lost a race on a position (or a version) is retried before giving up. */
const MAX_ATTEMPTS = 10;

/** Jittered, growing pause between retries so that racing writers stop meeting each other. */
function backOff(attempt: number): Promise<void> {
  return sleep(5 + Math.random() * 20 * attempt);
}

export interface Mutation<T> {
  result: T;
  event: DomainEvent;
}

function isDuplicateKey(err: unknown): boolean {
  return isDuplicateKeyError(err);
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

async function checkAssignee(projectId: string, assignee: string | null | undefined) {
  if (!assignee) return;
  // The assignee was validated as an object id by the schema; the access cache answers.
  if (!(await roleOf(projectId, assignee)))
    throw errors.validation('invalid task: assignee: must be a member of the project');
}

async function lastPosition(projectId: Types.ObjectId, status: TaskStatus): Promise<string | null> {
  const last = await Task.findOne({ projectId, status }, { position: 1 })
    .sort({ position: -1 })
    .lean();
  return last?.position ?? null;
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
  const task = toTaskDTO(
    await appendToColumn(pid, status, (position) => ({
      projectId: pid,
      title: input.title,
      description: input.description ?? '',
      status,
      priority: input.priority ?? 'medium',
      assignee: input.assignee ? new Types.ObjectId(input.assignee) : null,
      dueDate: input.dueDate ? new Date(input.dueDate) : null,
      labels: input.labels ?? [],
      subtasks: input.subtasks ?? [],
      position,
      createdBy: new Types.ObjectId(userId),
    })),
  );
  const event = await publishEvent(
    ctx,
    'task:created',
    projectId,
    userId,
    { task, createdBy: userId },
    clientId,
  );
  return { result: task, event };
}

/**
 * Inserts a task at the end of its column. Concurrent creates in one column compute the same
 * position; the unique (project, status, position) index lets one win, and the others back off,
 * read the end again and retry.
 */
async function appendToColumn(
  pid: Types.ObjectId,
  status: TaskStatus,
  build: (position: string) => Record<string, unknown>,
): Promise<TaskDoc> {
  for (let attempt = 1; ; attempt++) {
    try {
      const doc = await Task.create(build(positionBetween(await lastPosition(pid, status), null)));
      return doc.toObject() as TaskDoc;
    } catch (err) {
      if (!isDuplicateKey(err) || attempt >= MAX_ATTEMPTS) throw err;
      await backOff(attempt);
    }
  }
}

export async function updateTask(
  ctx: ServiceContext,
  userId: string,
  taskId: string,
  body: unknown,
  opts: { projectId?: string; clientId?: string } = {},
): Promise<Mutation<TaskDTO>> {
  const current = await loadTask(taskId, userId, NEEDS.write, opts.projectId);
  const { version, ...fields } = parse(updateTaskBody, body, 'task update');
  const projectId = current.projectId.toString();
  await checkAssignee(projectId, fields.assignee);
  const set: Record<string, unknown> = { ...fields };
  if (fields.assignee !== undefined)
    set.assignee = fields.assignee ? new Types.ObjectId(fields.assignee) : null;
  if (fields.dueDate !== undefined) set.dueDate = fields.dueDate ? new Date(fields.dueDate) : null;
  const { after: updated } = await versionedWrite(current._id, version, async () => set);
  const task = toTaskDTO(updated);
  const event = await publishEvent(
    ctx,
    'task:updated',
    projectId,
    userId,
    { taskId: task.id, updates: fields, task, updatedBy: userId },
    opts.clientId,
  );
  return { result: task, event };
}

async function conflictOrGone(id: Types.ObjectId): Promise<AppError> {
  const now = await Task.findById(id).lean<TaskDoc>();
  if (!now) return errors.notFound('task');
  return errors.conflict(
    'version_conflict',
    `the task was changed by someone else (now at version ${now.version}); reapply your change to it`,
    { task: toTaskDTO(now) },
  );
}

export async function moveTask(
  ctx: ServiceContext,
  userId: string,
  taskId: string,
  body: unknown,
  opts: { projectId?: string; clientId?: string } = {},
): Promise<Mutation<TaskDTO>> {
  const input = parse(moveTaskBody, body, 'move');
  const task = await loadTask(taskId, userId, NEEDS.write, opts.projectId);
  const projectId = task.projectId.toString();
  const { before, after: moved } = await versionedWrite(task._id, input.version, async (cur) => ({
    status: input.status,
    position: await targetPosition(cur, input),
  }));
  const newIndex = await Task.countDocuments({
    projectId: moved.projectId,
    status: moved.status,
    position: { $lt: moved.position },
  });
  const dto = toTaskDTO(moved);
  const event = await publishEvent(
    ctx,
    'task:moved',
    projectId,
    userId,
    {
      taskId: dto.id,
      fromStatus: before.status,
      toStatus: moved.status,
      newIndex,
      task: dto,
      movedBy: userId,
    },
    opts.clientId,
  );
  return { result: dto, event };
}

const STALE_CLAIM_MS = 10_000;

/**
 * Writes the next version of a task. The version number is claimed first (core/claims.ts), so of
 * two concurrent writers exactly one gets it, even on FerretDB where update is not isolated. With
 * `expected`, a task that is not at that version (or is being written) answers 409
 * `version_conflict` with the current task; without it, the write retries on the fresh task.
 */
async function versionedWrite(
  id: Types.ObjectId,
  expected: number | undefined,
  build: (current: TaskDoc) => Promise<Record<string, unknown>>,
): Promise<{ before: TaskDoc; after: TaskDoc }> {
  const key = `task:${id.toString()}`;
  for (let attempt = 1; ; attempt++) {
    const current = await Task.findById(id).lean<TaskDoc>();
    if (!current) throw errors.notFound('task');
    if (expected !== undefined && current.version !== expected) throw await conflictOrGone(id);
    const set = await build(current);
    const next = current.version + 1;
    if (!(await claim(key, next))) {
      await releaseIfStale(key, next, current);
      if (expected !== undefined || attempt >= MAX_ATTEMPTS) throw await conflictOrGone(id);
      await backOff(attempt);
      continue;
    }
    try {
      const after = await Task.findOneAndUpdate(
        // The version filter stops a writer whose read is older than claims already forgotten
        // (forgetBelow): its claim of an old number succeeds, but its write must not land.
        { _id: id, version: current.version },
        { $set: { ...set, version: next } },
        { new: true },
      ).lean<TaskDoc>();
      if (!after) {
        await Claim.deleteOne({ k: key, n: next });
        if (expected !== undefined || attempt >= MAX_ATTEMPTS) throw await conflictOrGone(id);
        continue;
      }
      void forgetBelow(key, next).catch(() => undefined);
      return { before: current, after };
    } catch (err) {
      // Give the version back: the write did not happen (a position taken meanwhile, or gone).
      await Claim.deleteOne({ k: key, n: next });
      if (!isDuplicateKey(err) || attempt >= MAX_ATTEMPTS) throw err;
      await backOff(attempt);
    }
  }
}

/** A claim left by a writer that died between claiming and writing is released after a while. */
async function releaseIfStale(key: string, n: number, current: TaskDoc): Promise<void> {
  const stuck = await Claim.findOne({ k: key, n }).lean();
  if (!stuck || current.version !== n - 1) return;
  const age = Date.now() - (stuck._id as Types.ObjectId).getTimestamp().getTime();
  if (age > STALE_CLAIM_MS) await Claim.deleteOne({ _id: stuck._id });
}

/** The fractional index for the move, from the named neighbours, an index, or the column's end. */
async function targetPosition(
  task: TaskDoc,
  input: { status: TaskStatus; beforeId?: string | null; afterId?: string | null; index?: number },
): Promise<string> {
  const column = await Task.find(
    { projectId: task.projectId, status: input.status, _id: { $ne: task._id } },
    { position: 1 },
  )
    .sort({ position: 1 })
    .lean();
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
  const task = await loadTask(taskId, userId, NEEDS.write, opts.projectId);
  const res = await Task.deleteOne({ _id: task._id });
  if (res.deletedCount === 0) throw errors.notFound('task');
  void forgetAll(`task:${task._id.toString()}`).catch(() => undefined);
  const event = await publishEvent(
    ctx,
    'task:deleted',
    task.projectId.toString(),
    userId,
    { taskId: task._id.toString(), deletedBy: userId },
    opts.clientId,
  );
  return { result: null, event };
}

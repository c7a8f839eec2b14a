import {
  taskCreatePayload,
  taskDeletePayload,
  taskMovePayload,
  taskUpdatePayload,
} from '@collabflow/shared';
import { parse } from '../core/errors.js';
import type { Notifier } from '../realtime/delivery.js';
import type { SocketModule } from '../realtime/handlers.js';
import * as tasks from './task.service.js';

/** Someone assigned a task (by somebody else) hears about it in their user room. */
export const taskNotifier: Notifier = (event) => {
  if (event.type !== 'task:created' && event.type !== 'task:updated') return [];
  const task = event.data.task;
  const assigned = event.type === 'task:created' || 'assignee' in event.data.updates;
  if (!assigned || !task.assignee || task.assignee === event.actor) return [];
  return [
    {
      userId: task.assignee,
      notification: {
        kind: 'task:assigned',
        message: `You were assigned "${task.title}"`,
        projectId: event.projectId,
        data: { taskId: task.id },
      },
    },
  ];
};

/** `task:create|update|move|delete`: the same service calls as REST ([S1]). */
export const taskSocket: SocketModule = (events, { ctx, limits }) => {
  events.on('task:create', limits.mutation, async (socket, raw) => {
    const p = parse(taskCreatePayload, raw, 'task:create');
    const { result } = await tasks.createTask(
      ctx,
      socket.data.userId,
      p.projectId,
      p.task,
      p.clientId,
    );
    return { task: result };
  });
  events.on('task:update', limits.mutation, async (socket, raw) => {
    const p = parse(taskUpdatePayload, raw, 'task:update');
    const body = p.version === undefined ? p.updates : { ...p.updates, version: p.version };
    const { result } = await tasks.updateTask(ctx, socket.data.userId, p.taskId, body, {
      projectId: p.projectId,
      clientId: p.clientId,
    });
    return { task: result };
  });
  events.on('task:move', limits.mutation, async (socket, raw) => {
    const p = parse(taskMovePayload, raw, 'task:move');
    const body: Record<string, unknown> = { status: p.toStatus };
    if (p.newIndex !== undefined) body.index = p.newIndex;
    if (p.beforeId !== undefined) body.beforeId = p.beforeId;
    if (p.afterId !== undefined) body.afterId = p.afterId;
    if (p.version !== undefined) body.version = p.version;
    const { result } = await tasks.moveTask(ctx, socket.data.userId, p.taskId, body, {
      projectId: p.projectId,
      clientId: p.clientId,
    });
    return { task: result };
  });
  events.on('task:delete', limits.mutation, async (socket, raw) => {
    const p = parse(taskDeletePayload, raw, 'task:delete');
    await tasks.deleteTask(ctx, socket.data.userId, p.taskId, {
      projectId: p.projectId,
      clientId: p.clientId,
    });
    return null;
  });
};

import { Router } from 'express';
import type { ServiceContext } from '../core/context.js';
import { currentUserId } from '../auth/middleware.js';
import * as tasks from './task.service.js';

export function taskRoutes(ctx: ServiceContext): Router {
  const r = Router();
  r.get('/projects/:projectId/tasks', async (req, res) => {
    res.json({ tasks: await tasks.listTasks(currentUserId(res), req.params.projectId, req.query) });
  });
  r.post('/projects/:projectId/tasks', async (req, res) => {
    const { result } = await tasks.createTask(
      ctx,
      currentUserId(res),
      req.params.projectId,
      req.body,
    );
    res.status(201).json({ task: result });
  });
  r.get('/tasks/:taskId', async (req, res) => {
    res.json({ task: await tasks.getTask(currentUserId(res), req.params.taskId) });
  });
  r.patch('/tasks/:taskId', async (req, res) => {
    const { result } = await tasks.updateTask(ctx, currentUserId(res), req.params.taskId, req.body);
    res.json({ task: result });
  });
  r.post('/tasks/:taskId/move', async (req, res) => {
    const { result } = await tasks.moveTask(ctx, currentUserId(res), req.params.taskId, req.body);
    res.json({ task: result });
  });
  r.delete('/tasks/:taskId', async (req, res) => {
    await tasks.deleteTask(ctx, currentUserId(res), req.params.taskId);
    res.status(204).end();
  });
  return r;
}

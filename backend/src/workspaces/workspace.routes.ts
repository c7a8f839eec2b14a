import { Router } from 'express';
import type { ServiceContext } from '../core/context.js';
import { currentUserId } from '../auth/middleware.js';
import { createWorkspace, listWorkspaces } from './workspace.service.js';

export function workspaceRoutes(_ctx: ServiceContext): Router {
  const r = Router();
  r.get('/workspaces', async (_req, res) => {
    res.json({ workspaces: await listWorkspaces(currentUserId(res)) });
  });
  r.post('/workspaces', async (req, res) => {
    res.status(201).json({ workspace: await createWorkspace(currentUserId(res), req.body) });
  });
  return r;
}

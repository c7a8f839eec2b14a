import { Router } from 'express';
import type { ServiceContext } from '../core/context.js';
import { currentUserId } from '../auth/middleware.js';
import * as projects from './project.service.js';

export function projectRoutes(ctx: ServiceContext): Router {
  const r = Router();
  r.get('/projects', async (_req, res) => {
    res.json({ projects: await projects.listProjects(ctx, currentUserId(res)) });
  });
  r.post('/projects', async (req, res) => {
    res
      .status(201)
      .json({ project: await projects.createProject(ctx, currentUserId(res), req.body) });
  });
  r.get('/projects/:projectId', async (req, res) => {
    res.json({ project: await projects.getProject(ctx, currentUserId(res), req.params.projectId) });
  });
  r.patch('/projects/:projectId', async (req, res) => {
    res.json({
      project: await projects.updateProject(
        ctx,
        currentUserId(res),
        req.params.projectId,
        req.body,
      ),
    });
  });
  r.delete('/projects/:projectId', async (req, res) => {
    await projects.deleteProject(ctx, currentUserId(res), req.params.projectId);
    res.status(204).end();
  });
  r.get('/projects/:projectId/members', async (req, res) => {
    res.json({ members: await projects.listMembers(currentUserId(res), req.params.projectId) });
  });
  r.post('/projects/:projectId/members', async (req, res) => {
    res.status(201).json({
      member: await projects.addMember(ctx, currentUserId(res), req.params.projectId, req.body),
    });
  });
  r.patch('/projects/:projectId/members/:userId', async (req, res) => {
    const member = await projects.updateMember(
      ctx,
      currentUserId(res),
      req.params.projectId,
      req.params.userId,
      req.body,
    );
    res.json({ member });
  });
  r.delete('/projects/:projectId/members/:userId', async (req, res) => {
    await projects.removeMember(ctx, currentUserId(res), req.params.projectId, req.params.userId);
    res.status(204).end();
  });
  return r;
}

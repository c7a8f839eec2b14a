import { Router } from 'express';
import type { ServiceContext } from '../core/context.js';
import { currentUserId } from '../auth/middleware.js';
import * as chat from './chat.service.js';

export function chatRoutes(ctx: ServiceContext): Router {
  const r = Router();
  r.get('/projects/:projectId/channels', async (req, res) => {
    res.json({ channels: await chat.listChannels(currentUserId(res), req.params.projectId) });
  });
  r.post('/projects/:projectId/channels', async (req, res) => {
    res.status(201).json({
      channel: await chat.createChannel(ctx, currentUserId(res), req.params.projectId, req.body),
    });
  });
  r.get('/channels/:channelId/messages', async (req, res) => {
    res.json(await chat.listMessages(currentUserId(res), req.params.channelId, req.query));
  });
  r.post('/channels/:channelId/messages', async (req, res) => {
    const { result } = await chat.postMessage(
      ctx,
      currentUserId(res),
      req.params.channelId,
      req.body,
    );
    res.status(201).json({ message: result });
  });
  r.patch('/messages/:messageId', async (req, res) => {
    res.json({
      message: await chat.editMessage(ctx, currentUserId(res), req.params.messageId, req.body),
    });
  });
  r.delete('/messages/:messageId', async (req, res) => {
    await chat.deleteMessage(ctx, currentUserId(res), req.params.messageId);
    res.status(204).end();
  });
  return r;
}

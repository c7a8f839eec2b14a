import { Router } from 'express';
import type { AnyDomainEvent } from '@collabflow/shared';
import { currentUserId } from '../auth/middleware.js';
import { errors } from '../core/errors.js';
import { NEEDS, requireProject } from '../projects/access.js';
import type { Realtime } from './socket-server.js';

const KEEPALIVE_MS = 15_000;

function frame(event: AnyDomainEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * GET /api/projects/:projectId/events — the project's domain events as server-sent events.
 * `id:` is the event's seq; reconnecting with `Last-Event-ID` (or `?lastEventId=`) replays what
 * was missed from the event log, or sends `event: resync` when the log no longer has it.
 */
export function sseRoutes(realtime: Realtime): Router {
  const r = Router();
  r.get('/projects/:projectId/events', async (req, res) => {
    const userId = currentUserId(res);
    const { projectId } = req.params;
    await requireProject(projectId, userId, NEEDS.read);
    const header =
      req.header('last-event-id') ??
      (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    let lastSent = -1;
    if (header !== undefined) {
      if (!/^\d{1,15}$/.test(header)) throw errors.validation('Last-Event-ID must be an event seq');
      lastSent = Number(header);
    }

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');

    // Subscribe before replaying so nothing falls between the two; drop what was already sent.
    const pending: AnyDomainEvent[] = [];
    let replaying = true;
    const send = (event: AnyDomainEvent) => {
      if (event.seq <= lastSent) return;
      lastSent = event.seq;
      res.write(frame(event));
    };
    const unsubscribe = realtime.subscribe(projectId, (event) =>
      replaying ? pending.push(event) : send(event),
    );
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    req.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
    });

    const { seq, events } = await realtime.replay(projectId, Math.max(lastSent, 0));
    if (header === undefined) {
      lastSent = seq;
      res.write(`event: ready\ndata: ${JSON.stringify({ projectId, seq })}\n\n`);
    } else if (events === null) {
      res.write(`event: resync\ndata: ${JSON.stringify({ projectId, seq })}\n\n`);
      lastSent = seq;
    } else {
      for (const e of events) send(e);
    }
    replaying = false;
    for (const e of pending.sort((a, b) => a.seq - b.seq)) send(e);
  });
  return r;
}

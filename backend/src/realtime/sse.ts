import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { AnyDomainEvent, ProjectRole } from '@collabflow/shared';
import { currentUserId } from '../auth/middleware.js';
import { verifyAccessToken } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { AppError, errors } from '../core/errors.js';
import { NEEDS, eventFor, requireProject } from '../projects/access.js';
import { tooManyConnections } from './connection-slots.js';
import type { StreamEnd } from './delivery.js';
import type { Realtime } from './socket-server.js';

const KEEPALIVE_MS = 15_000;
/** How long an early event waits for the ones before it before the event log is asked. */
const GAP_WAIT_MS = 1000;

function frame(event: AnyDomainEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The `exp` (seconds) of the request's access token, which the auth middleware accepted. */
function tokenExp(req: Request, res: Response, config: Config): number {
  const known: unknown = res.locals.tokenExp;
  if (typeof known === 'number') return known;
  const match = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '');
  const result = match?.[1] ? verifyAccessToken(match[1], config.JWT_SECRET) : null;
  if (!result?.ok) throw errors.unauthorized();
  return result.claims.exp;
}

/** A stream that ended before it started: the answer instead of the stream. */
function refusal(reason: StreamEnd): AppError {
  if (reason === 'token_expired')
    return new AppError(401, 'token_expired', 'access token expired; refresh it');
  if (reason === 'logged_out') return errors.unauthorized('the session has ended');
  return errors.notFound('project');
}

/**
 * GET /api/projects/:projectId/events — the project's domain events as server-sent events.
 * `id:` is the event's seq; reconnecting with `Last-Event-ID` (or `?lastEventId=`) replays what
 * was missed from the event log, or sends `event: resync` when the log no longer has it.
 * The stream ends with `event: end` ([C7]) when the user loses access to the project, the
 * project is deleted, the access token expires or the user logs out, on whichever replica the
 * change happened.
 */
export function sseRoutes(realtime: Realtime, config: Config): Router {
  const r = Router();
  r.get('/projects/:projectId/events', async (req, res) => {
    const userId = currentUserId(res);
    const exp = tokenExp(req, res, config);
    // Events carry the canonical (lower-case) id; the path may use either case.
    const projectId = req.params.projectId.toLowerCase();
    const header =
      req.header('last-event-id') ??
      (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    let lastSent = -1;
    if (header !== undefined) {
      if (!/^\d{1,15}$/.test(header)) throw errors.validation('Last-Event-ID must be an event seq');
      lastSent = Number(header);
    }
    // What the stream may show; the least until the access check says (a re-check may set it).
    let role: ProjectRole = 'viewer';
    // Registered before the access check, so a removal during the check is not missed.
    let ended: StreamEnd | undefined;
    // Until the stream starts, an end only marks it (`ended`); then it ends the response.
    let finish = (_reason: StreamEnd) => {};
    const forget = realtime.delivery.openStream(
      {
        userId,
        projectId,
        end(reason) {
          ended ??= reason;
          finish(reason);
        },
        setRole(r) {
          role = r;
        },
      },
      exp,
    );
    try {
      ({ role } = await requireProject(req.params.projectId, userId, NEEDS.read));
    } catch (err) {
      forget();
      throw err;
    }
    if (ended) {
      forget();
      throw refusal(ended);
    }
    // [A4] At most MAX_SSE_PER_USER streams per user across the cluster.
    const streamId = randomUUID();
    if (!(await realtime.slots.acquire('sse', userId, streamId, config.MAX_SSE_PER_USER))) {
      forget();
      throw tooManyConnections('sse', config.MAX_SSE_PER_USER);
    }
    if (ended) {
      forget();
      realtime.slots.release('sse', userId, streamId);
      throw refusal(ended);
    }

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');

    // Frames go out in seq order, each once, so Last-Event-ID always means "everything up to
    // here". Events from different replicas can arrive out of order: one that comes early waits
    // in `ahead` until the gap before it is filled, by the live stream or, after GAP_WAIT_MS,
    // from the event log; when the log cannot fill it either, the client is told to resync.
    const ahead = new Map<number, AnyDomainEvent>();
    let replaying = true;
    let closed = false;
    let gapTimer: NodeJS.Timeout | undefined;
    const resync = (seq: number) => {
      res.write(`event: resync\ndata: ${JSON.stringify({ projectId, seq })}\n\n`);
      lastSent = Math.max(lastSent, seq);
    };
    const flush = () => {
      if (replaying || closed) return;
      for (const seq of ahead.keys()) if (seq <= lastSent) ahead.delete(seq);
      for (let e = ahead.get(lastSent + 1); e; e = ahead.get(lastSent + 1)) {
        ahead.delete(e.seq);
        lastSent = e.seq;
        // The stream's role follows the member's changes, in seq order ([M1]).
        if (e.type === 'member:updated' && e.data.member.userId === userId)
          role = e.data.member.role;
        res.write(frame(eventFor(e, role)));
      }
      if (ahead.size === 0) {
        clearTimeout(gapTimer);
        gapTimer = undefined;
      } else {
        gapTimer ??= setTimeout(() => void fillGap(), GAP_WAIT_MS);
        gapTimer.unref();
      }
    };
    const fillGap = async () => {
      gapTimer = undefined;
      if (closed || ahead.size === 0) return;
      const found = await realtime.replay(projectId, lastSent).catch(() => null);
      if (closed) return;
      for (const e of found?.events ?? []) if (e.seq > lastSent) ahead.set(e.seq, e);
      if (ahead.size > 0 && !ahead.has(lastSent + 1)) {
        // The log cannot fill the gap (unreachable, trimmed, or a seq that never became an
        // event): one resync up to just before the first event held, after which the client
        // reloads the snapshot, and the stream goes on with that event and the ones after it.
        resync(Math.min(...ahead.keys()) - 1);
      }
      flush();
    };
    const accept = (event: AnyDomainEvent) => {
      if (event.seq <= lastSent) return;
      ahead.set(event.seq, event);
      flush();
    };

    // Subscribe before replaying so nothing falls between the two.
    const unsubscribe = realtime.subscribe(projectId, accept);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const stop = () => {
      closed = true;
      clearInterval(keepalive);
      clearTimeout(gapTimer);
      unsubscribe();
      forget();
      realtime.slots.release('sse', userId, streamId);
    };
    req.on('close', stop);
    finish = (reason) => {
      if (closed) return;
      stop();
      res.end(`event: end\ndata: ${JSON.stringify({ projectId, reason })}\n\n`);
    };

    const { seq, events } = await realtime.replay(projectId, Math.max(lastSent, 0));
    if (closed) return;
    if (header === undefined) {
      lastSent = seq;
      res.write(`event: ready\ndata: ${JSON.stringify({ projectId, seq })}\n\n`);
    } else if (events === null) {
      resync(seq);
    } else {
      for (const e of events) if (e.seq > lastSent) ahead.set(e.seq, e);
    }
    replaying = false;
    flush();
  });
  return r;
}

import type { ClientToServerEvents } from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { AppError, toErrorResponse } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Limiter } from '../core/rate-limit.js';
import type { EventLog } from './event-log.js';
import type { Metrics } from '../ops/metrics.js';
import type { Delivery } from './delivery.js';
import type { LivePresence } from './live-presence.js';
import type { ClientSocket, IO } from './types.js';

/** A client event's handler: its return value is the ack's `data`; a throw becomes its `error`. */
export type Handler = (socket: ClientSocket, payload: unknown) => Promise<unknown>;

/** Per-user budgets of client events ([R4]); with Redis they are shared by every replica. */
export interface SocketLimits {
  mutation: Limiter;
  chat: Limiter;
  typing: Limiter;
  read: Limiter;
}

export interface HandlerRegistry {
  on(event: keyof ClientToServerEvents, limiter: Limiter, handler: Handler): void;
}

/** What a domain's socket handlers may use. */
export interface SocketModuleDeps {
  io: IO;
  ctx: ServiceContext;
  limits: SocketLimits;
  delivery: Delivery;
  presence: LivePresence;
  eventLog: EventLog;
}

/**
 * A domain's socket handlers (`tasks/task.socket.ts`, …): registers its events; may return what
 * to do when a socket disconnects.
 */
export type SocketModule = (
  events: HandlerRegistry,
  deps: SocketModuleDeps,
) => { disconnect?(socket: ClientSocket): void } | void;

/**
 * Joins a room unless the socket has disconnected meanwhile ([P4]): a handler that awaited
 * something must not put a closed socket back into a room (nothing would take it out). Join and
 * disconnect are thereby ordered per socket: a join either lands before the disconnect, which
 * undoes it, or not at all.
 */
export function joinIfConnected(socket: ClientSocket, room: string): void {
  if (!socket.connected) throw new AppError(409, 'disconnected', 'the connection has closed');
  void socket.join(room);
}

/**
 * One table of shared handlers for every socket (not closures per socket): every client event
 * gets exactly one answer ([R1]) and goes through the sender's rate limit ([R4]).
 */
export class SocketEvents implements HandlerRegistry {
  readonly #handlers = new Map<string, { limiter: Limiter; handler: Handler }>();
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #expose: boolean;

  on(event: keyof ClientToServerEvents, limiter: Limiter, handler: Handler): void {
    this.#handlers.set(event, { limiter, handler });
  }

  async #handle(
    socket: ClientSocket,
    event: string,
    entry: { limiter: Limiter; handler: Handler },
    args: unknown[],
  ) {
    let [payload, ack] = args;
    if (typeof ack !== 'function' && typeof payload === 'function' && args.length === 1) {
      ack = payload;
      payload = undefined;
    }
    if (typeof ack !== 'function') {
      // Every client event must carry an acknowledgement; without one there is nobody to answer.
      this.#metrics.socketEvents.inc({ event, outcome: 'no_ack' });
      return;
    }
    const reply = ack as (answer: unknown) => void;
    try {
      // Per user, not per socket: more sockets do not multiply the budget.
      await entry.limiter.consume(socket.data.userId);
      const data = await entry.handler(socket, payload);
      this.#metrics.socketEvents.inc({ event, outcome: 'ok' });
      reply({ ok: true, data: data ?? null });
    } catch (err) {
      const { body, unexpected } = toErrorResponse(err, this.#expose);
      if (unexpected) this.#log.error({ err, event }, 'socket handler failed');
      this.#metrics.socketEvents.inc({ event, outcome: body.code });
      reply({ ok: false, error: body });
    }
  }

  /** Every client event of every socket (socket.io calls it with the socket as `this`). */
  readonly listener: (this: ClientSocket, event: string, ...args: unknown[]) => void;

  constructor(metrics: Metrics, log: Logger, expose: boolean) {
    this.#metrics = metrics;
    this.#log = log;
    this.#expose = expose;
    const handlers = this.#handlers;
    const handle = this.#handle.bind(this);
    this.listener = function onClientEvent(this: ClientSocket, event, ...args) {
      const entry = handlers.get(event);
      if (entry) {
        void handle(this, event, entry, args);
        return;
      }
      const ack = args[args.length - 1];
      metrics.socketEvents.inc({ event: 'unknown', outcome: 'unknown_event' });
      if (typeof ack === 'function') {
        (ack as (a: unknown) => void)({
          ok: false,
          error: { code: 'unknown_event', message: `unknown event ${String(event).slice(0, 50)}` },
        });
      }
    };
  }
}

import { EventEmitter } from 'node:events';
import type { AnyDomainEvent } from '@collabflow/shared';

export type EventHandler = (event: AnyDomainEvent) => void;

/**
 * The in-process bus every service publishes its domain events on. The real-time layer
 * subscribes and broadcasts to rooms; the event log and SSE streams subscribe too.
 * A throwing subscriber never breaks the publisher or the other subscribers.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  readonly #onError: (err: unknown, event: AnyDomainEvent) => void;

  constructor(onError: (err: unknown, event: AnyDomainEvent) => void) {
    this.#emitter.setMaxListeners(0);
    this.#onError = onError;
  }

  publish(event: AnyDomainEvent): void {
    for (const handler of this.#emitter.listeners('event') as EventHandler[]) {
      try {
        handler(event);
      } catch (err) {
        this.#onError(err, event);
      }
    }
  }

  /** Returns the function that unsubscribes. */
  subscribe(handler: EventHandler): () => void {
    this.#emitter.on('event', handler);
    return () => this.#emitter.off('event', handler);
  }
}

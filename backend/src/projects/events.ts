import type {
  AnyDomainEvent,
  DomainEvent,
  DomainEventData,
  DomainEventType,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { lastClaimed, nextInSequence } from '../core/claims.js';

/** Ids arrive from REST paths in any case; the counter and the rooms use the canonical (lower) one. */
export const seqKey = (projectId: string) => `seq:${projectId.toLowerCase()}`;

/** Takes the project's next seq ahead of persisting, for records that store their seq (messages). */
export async function reserveSeq(projectId: string): Promise<number> {
  return nextInSequence(seqKey(projectId));
}

/** The project's current seq: the last one handed out. */
export async function currentSeq(projectId: string): Promise<number> {
  return lastClaimed(seqKey(projectId));
}

/**
 * Takes the project's next `seq` (an atomic claim, see core/claims.ts), wraps the change in the
 * one event shape and publishes it on the in-process bus. Called by services right after the
 * change is persisted.
 */
export async function publishEvent<T extends DomainEventType>(
  ctx: ServiceContext,
  type: T,
  projectId: string,
  actor: string,
  data: DomainEventData[T],
  clientId?: string,
  reservedSeq?: number,
): Promise<DomainEvent<T>> {
  const seq = reservedSeq ?? (await reserveSeq(projectId));
  const event: DomainEvent<T> = {
    type,
    projectId: projectId.toLowerCase(),
    seq,
    at: new Date().toISOString(),
    actor,
    data,
  };
  if (clientId !== undefined) event.clientId = clientId;
  ctx.bus.publish(event as unknown as AnyDomainEvent);
  return event;
}

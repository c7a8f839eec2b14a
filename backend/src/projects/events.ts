import type {
  AnyDomainEvent,
  DomainEvent,
  DomainEventData,
  DomainEventType,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { Project } from './project.model.js';

/**
 * Takes the project's next `seq` (atomic `$inc`), wraps the change in the one event shape and
 * publishes it on the in-process bus. Called by services right after the change is persisted.
 */
export async function publishEvent<T extends DomainEventType>(
  ctx: ServiceContext,
  type: T,
  projectId: string,
  actor: string,
  data: DomainEventData[T],
  clientId?: string,
): Promise<DomainEvent<T>> {
  const updated = await Project.findOneAndUpdate(
    { _id: projectId },
    { $inc: { seq: 1 } },
    // No projection: FerretDB 1.x findAndModify does not implement `fields`.
    { new: true },
  ).lean();
  const seq = updated?.seq ?? 0;
  const event: DomainEvent<T> = { type, projectId, seq, at: new Date().toISOString(), actor, data };
  if (clientId !== undefined) event.clientId = clientId;
  ctx.bus.publish(event as unknown as AnyDomainEvent);
  return event;
}

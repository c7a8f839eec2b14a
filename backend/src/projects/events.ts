import type { ServiceContext } from '../core/context.js';
import type { Plan, WriteResult } from './write-path.js';

export type { Plan, LandedCheck, PlannedEvent, WriteResult } from './write-path.js';

/** The project's current seq: the last one handed out (0 before its first event). */
export async function currentSeq(ctx: ServiceContext, projectId: string): Promise<number> {
  return ctx.writes.current(projectId);
}

/**
 * Runs one change of a project on its serialized write path (projects/write-path.ts): `plan`
 * gets the seq the change will take, reads and checks what it needs, and returns the write and
 * the event to publish. A plan that throws changes nothing and takes no seq.
 */
export function changeProject<R>(
  ctx: ServiceContext,
  projectId: string,
  plan: (seq: number) => Promise<Plan<R>>,
): Promise<WriteResult<R>> {
  return ctx.writes.run(projectId, plan);
}

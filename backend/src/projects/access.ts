import { isValidObjectId, Types } from 'mongoose';
import type { AnyDomainEvent, ProjectRole } from '@collabflow/shared';
import { errors } from '../core/errors.js';
import { accessCache } from './access-cache.js';
import { Member } from './project.model.js';

const RANK: Record<ProjectRole, number> = { viewer: 1, member: 2, admin: 3, owner: 4 };

/** What each action needs. Viewers read only. */
export const NEEDS = {
  read: 'viewer',
  write: 'member',
  manage: 'admin',
  own: 'owner',
} as const satisfies Record<string, ProjectRole>;

export function atLeast(role: ProjectRole, needed: ProjectRole): boolean {
  return RANK[role] >= RANK[needed];
}

export function toObjectId(id: string, what: string): Types.ObjectId {
  if (typeof id !== 'string' || !/^[a-f0-9]{24}$/i.test(id) || !isValidObjectId(id)) {
    throw errors.notFound(what);
  }
  return new Types.ObjectId(id);
}

/** The user's role in the project, `null` for a non-member: from the access cache, else one read. */
export async function roleOf(projectId: string, userId: string): Promise<ProjectRole | null> {
  const pid = toObjectId(projectId, 'project');
  const uid = toObjectId(userId, 'user');
  return accessCache.roleFromRoster(projectId, uid.toString(), async () =>
    (await Member.find({ projectId: pid }, { userId: 1, role: 1 }).lean()).map((m) => ({
      userId: m.userId.toString(),
      role: m.role,
    })),
  );
}

/**
 * Checks that the user can see the project with at least `needed`. Someone who is not a member
 * gets 404 (they cannot learn that the project exists); a member whose role is too weak gets 403.
 * A membership exists only while its project does (deleting a project deletes its members, and
 * `project:deleted` tombstones it in the cache), so this reads no project document.
 */
export async function requireProject(
  projectId: string,
  userId: string,
  needed: ProjectRole,
): Promise<{ role: ProjectRole }> {
  const role = await roleOf(projectId, userId);
  if (!role) throw errors.notFound('project');
  if (!atLeast(role, needed)) {
    throw errors.forbidden(
      `this needs the ${needed} role or higher in the project; you are ${role}`,
    );
  }
  return { role };
}

/**
 * Who loses access to a project through an event: the removed member, or everyone (no `userId`)
 * when the project is deleted. The real-time layer carries it out on every replica ([C5]).
 */
export function accessLost(event: AnyDomainEvent): { projectId: string; userId?: string } | null {
  switch (event.type) {
    case 'member:removed':
      return { projectId: event.projectId, userId: event.data.userId };
    case 'project:deleted':
      return { projectId: event.projectId };
    default:
      return null;
  }
}

/**
 * The roles of `pairs` (project id, user id) read from the database, not the cache: for the
 * periodic re-check of live connections ([A2]). A pair without a membership is absent.
 */
export async function currentRoles(
  pairs: Array<{ projectId: string; userId: string }>,
): Promise<Map<string, ProjectRole>> {
  const roles = new Map<string, ProjectRole>();
  if (pairs.length === 0) return roles;
  const projects = [...new Set(pairs.map((p) => p.projectId.toLowerCase()))];
  const users = [...new Set(pairs.map((p) => p.userId.toLowerCase()))];
  const found = await Member.find(
    {
      projectId: { $in: projects.map((id) => new Types.ObjectId(id)) },
      userId: { $in: users.map((id) => new Types.ObjectId(id)) },
    },
    { projectId: 1, userId: 1, role: 1 },
  ).lean();
  for (const m of found) roles.set(memberKey(m.projectId.toString(), m.userId.toString()), m.role);
  return roles;
}

export const memberKey = (projectId: string, userId: string): string =>
  `${projectId.toLowerCase()}:${userId.toLowerCase()}`;

/** Members' e-mail addresses are for owners and admins ([M1]). */
export function seesMemberEmails(role: ProjectRole): boolean {
  return atLeast(role, NEEDS.manage);
}

/**
 * The event as someone with `role` may see it: without members' e-mail addresses unless they
 * are an owner or admin ([M1]).
 */
export function eventFor(event: AnyDomainEvent, role: ProjectRole): AnyDomainEvent {
  if (seesMemberEmails(role)) return event;
  if (event.type !== 'member:added' && event.type !== 'member:updated') return event;
  const user = event.data.member.user;
  if (!user || user.email === undefined) return event;
  const { email: _email, ...rest } = user;
  return { ...event, data: { ...event.data, member: { ...event.data.member, user: rest } } };
}

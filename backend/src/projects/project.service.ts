import { Types } from 'mongoose';
import {
  addMemberBody,
  createProjectBody,
  updateMemberBody,
  updateProjectBody,
  type MemberDTO,
  type ProjectDTO,
  type ProjectRole,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { errors, parse } from '../core/errors.js';
import { User, toPublicUser } from '../auth/user.model.js';
import { Workspace } from '../workspaces/workspace.model.js';
import { Channel } from '../chat/channel.model.js';
import { Message } from '../chat/message.model.js';
import { Task } from '../tasks/task.model.js';
import { NEEDS, requireProject, toObjectId } from './access.js';
import { accessCache } from './access-cache.js';
import { changeProject } from './events.js';
import { Member, Project, toProjectDTO, type MemberDoc } from './project.model.js';

export async function listProjects(ctx: ServiceContext, userId: string): Promise<ProjectDTO[]> {
  const memberships = await Member.find({ userId: new Types.ObjectId(userId) }).lean();
  if (memberships.length === 0) return [];
  const roles = new Map(memberships.map((m) => [m.projectId.toString(), m.role]));
  const projects = await Project.find({ _id: { $in: memberships.map((m) => m.projectId) } })
    .sort({ createdAt: 1 })
    .lean();
  const seqs = await ctx.writes.currentMany(projects.map((p) => p._id.toString()));
  return projects.map((p, i) =>
    toProjectDTO({ ...p, seq: seqs[i] ?? 0 }, roles.get(p._id.toString())),
  );
}

export async function createProject(
  ctx: ServiceContext,
  userId: string,
  body: unknown,
): Promise<ProjectDTO> {
  const input = parse(createProjectBody, body);
  const uid = new Types.ObjectId(userId);
  let workspaceId: Types.ObjectId | null = null;
  if (input.workspaceId) {
    const ws = await Workspace.findOne({ _id: input.workspaceId, ownerId: uid }, { _id: 1 }).lean();
    if (!ws) throw errors.notFound('workspace');
    workspaceId = ws._id;
  }
  const project = await Project.create({
    name: input.name,
    description: input.description ?? '',
    workspaceId,
    ownerId: uid,
  });
  await Member.create({ projectId: project._id, userId: uid, role: 'owner' });
  // No event announces a new project: forget a "not a member" this replica may hold for it.
  accessCache.forgetMember(project._id.toString(), userId);
  await Channel.create({ projectId: project._id, name: 'general', createdBy: uid });
  ctx.logger.info({ projectId: project._id.toString(), userId }, 'project created');
  return toProjectDTO(project.toObject(), 'owner');
}

export async function getProject(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
): Promise<ProjectDTO> {
  const { role } = await requireProject(projectId, userId, NEEDS.read);
  const project = await Project.findById(toObjectId(projectId, 'project')).lean();
  if (!project) throw errors.notFound('project');
  return toProjectDTO({ ...project, seq: await ctx.writes.current(projectId) }, role);
}

export async function updateProject(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
  body: unknown,
): Promise<ProjectDTO> {
  const { role } = await requireProject(projectId, userId, NEEDS.manage);
  const input = parse(updateProjectBody, body);
  const { result } = await changeProject(ctx, projectId, async (seq) => {
    const project = await Project.findById(toObjectId(projectId, 'project')).lean();
    if (!project) throw errors.notFound('project');
    const updatedAt = new Date();
    const dto = toProjectDTO({ ...project, ...input, updatedAt, seq }, role);
    return {
      event: { type: 'project:updated', actor: userId, data: { project: dto } },
      landed: {
        collection: Project.collection.name,
        filter: { _id: project._id, updatedAt },
        exists: true,
      },
      apply: async () => {
        await Project.updateOne(
          { _id: project._id },
          { $set: { ...input, updatedAt } },
          { timestamps: false },
        );
      },
      result: dto,
    };
  });
  return result;
}

/**
 * Owner only. The deletion is announced like any change (on the project's write path, so it is
 * the project's last event), then everything of the project is removed.
 */
export async function deleteProject(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
): Promise<void> {
  await requireProject(projectId, userId, NEEDS.own);
  const pid = new Types.ObjectId(projectId);
  await changeProject(ctx, projectId, async () => ({
    event: { type: 'project:deleted', actor: userId, data: { projectId } },
    landed: { collection: Project.collection.name, filter: { _id: pid }, exists: false },
    apply: async () => {
      await Promise.all([
        Task.deleteMany({ projectId: pid }),
        Message.deleteMany({ projectId: pid }),
        Channel.deleteMany({ projectId: pid }),
      ]);
      await Member.deleteMany({ projectId: pid });
      await Project.deleteOne({ _id: pid });
    },
    result: null,
  }));
  await ctx.writes.forget(projectId);
  ctx.logger.info({ projectId, userId }, 'project deleted');
}

async function toMemberDTO(
  m: Pick<MemberDoc, 'projectId' | 'userId' | 'role'>,
): Promise<MemberDTO> {
  const user = await User.findById(m.userId, { name: 1, avatarColor: 1, email: 1 }).lean();
  const dto: MemberDTO = {
    projectId: m.projectId.toString(),
    userId: m.userId.toString(),
    role: m.role,
  };
  if (user) dto.user = { ...toPublicUser(user), email: user.email };
  return dto;
}

export async function listMembers(userId: string, projectId: string): Promise<MemberDTO[]> {
  await requireProject(projectId, userId, NEEDS.read);
  const members = await Member.find({ projectId: new Types.ObjectId(projectId) }).lean();
  const users = await User.find(
    { _id: { $in: members.map((m) => m.userId) } },
    { name: 1, avatarColor: 1, email: 1 },
  ).lean();
  const byId = new Map(users.map((u) => [u._id.toString(), u]));
  return members.map((m) => {
    const u = byId.get(m.userId.toString());
    const dto: MemberDTO = { projectId, userId: m.userId.toString(), role: m.role };
    if (u) dto.user = { ...toPublicUser(u), email: u.email };
    return dto;
  });
}

/** Only an owner may hand out or take away the owner role. */
function checkRoleChange(actorRole: ProjectRole, from: ProjectRole | null, to: ProjectRole | null) {
  if ((from === 'owner' || to === 'owner') && actorRole !== 'owner') {
    throw errors.forbidden('only an owner can grant or remove the owner role');
  }
}

async function ensureAnotherOwner(projectId: string, leavingUserId: string) {
  const owners = await Member.countDocuments({
    projectId: new Types.ObjectId(projectId),
    role: 'owner',
    userId: { $ne: new Types.ObjectId(leavingUserId) },
  });
  if (owners === 0) throw errors.conflict('last_owner', 'a project needs at least one owner');
}

export async function addMember(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
  body: unknown,
): Promise<MemberDTO> {
  const { role: actorRole } = await requireProject(projectId, userId, NEEDS.manage);
  const input = parse(addMemberBody, body);
  checkRoleChange(actorRole, null, input.role);
  const user = await User.findOne({ email: input.email }, { _id: 1 }).lean();
  if (!user) throw errors.notFound('user with that email');
  const pid = new Types.ObjectId(projectId);
  const { result } = await changeProject(ctx, projectId, async () => {
    if (await Member.exists({ projectId: pid, userId: user._id })) {
      throw errors.conflict('already_member', 'that user is already a member of this project');
    }
    const m = new Member({ projectId: pid, userId: user._id, role: input.role });
    const dto = await toMemberDTO(m);
    return {
      event: { type: 'member:added', actor: userId, data: { member: dto } },
      landed: {
        collection: Member.collection.name,
        filter: { projectId: pid, userId: user._id },
        exists: true,
      },
      apply: async () => {
        await m.save();
      },
      result: dto,
    };
  });
  return result;
}

export async function updateMember(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
  memberId: string,
  body: unknown,
): Promise<MemberDTO> {
  const { role: actorRole } = await requireProject(projectId, userId, NEEDS.manage);
  const input = parse(updateMemberBody, body);
  const pid = new Types.ObjectId(projectId);
  const memberOid = toObjectId(memberId, 'member');
  const { result } = await changeProject(ctx, projectId, async () => {
    // On the project's write path: two demotions of the last two owners cannot both pass.
    const target = await Member.findOne({ projectId: pid, userId: memberOid }).lean();
    if (!target) throw errors.notFound('member');
    checkRoleChange(actorRole, target.role, input.role);
    if (target.role === 'owner' && input.role !== 'owner')
      await ensureAnotherOwner(projectId, memberId);
    const dto = await toMemberDTO({ ...target, role: input.role });
    return {
      event: { type: 'member:updated', actor: userId, data: { member: dto } },
      landed: {
        collection: Member.collection.name,
        filter: { _id: target._id, role: input.role },
        exists: true,
      },
      apply: async () => {
        await Member.updateOne({ _id: target._id }, { $set: { role: input.role } });
      },
      result: dto,
    };
  });
  return result;
}

/** Admins remove members; anyone may leave a project themselves. */
export async function removeMember(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
  memberId: string,
): Promise<void> {
  const self = memberId.toLowerCase() === userId;
  const { role: actorRole } = await requireProject(
    projectId,
    userId,
    self ? NEEDS.read : NEEDS.manage,
  );
  const pid = new Types.ObjectId(projectId);
  const memberOid = toObjectId(memberId, 'member');
  await changeProject(ctx, projectId, async () => {
    // On the project's write path: the last owner check cannot race another removal.
    const target = await Member.findOne({ projectId: pid, userId: memberOid }).lean();
    if (!target) throw errors.notFound('member');
    if (!self) checkRoleChange(actorRole, target.role, null);
    if (target.role === 'owner') await ensureAnotherOwner(projectId, memberId);
    return {
      event: { type: 'member:removed', actor: userId, data: { userId: target.userId.toString() } },
      landed: { collection: Member.collection.name, filter: { _id: target._id }, exists: false },
      apply: async () => {
        await Member.deleteOne({ _id: target._id });
      },
      result: null,
    };
  });
}

import { Types } from 'mongoose';
import { createWorkspaceBody, type WorkspaceDTO } from '@collabflow/shared';
import { parse } from '../core/errors.js';
import { Member, Project } from '../projects/project.model.js';
import { Workspace, toWorkspaceDTO } from './workspace.model.js';

/** Workspaces group projects. You see the ones you own and those holding a project you are in. */
export async function listWorkspaces(userId: string): Promise<WorkspaceDTO[]> {
  const uid = new Types.ObjectId(userId);
  const memberships = await Member.find({ userId: uid }, { projectId: 1 }).lean();
  const projects = memberships.length
    ? await Project.find(
        { _id: { $in: memberships.map((m) => m.projectId) } },
        { workspaceId: 1 },
      ).lean()
    : [];
  const viaProjects = projects.flatMap((p) => (p.workspaceId ? [p.workspaceId] : []));
  const [owned, shared] = await Promise.all([
    Workspace.find({ ownerId: uid }).sort({ createdAt: 1 }).lean(),
    viaProjects.length ? Workspace.find({ _id: { $in: viaProjects } }).lean() : Promise.resolve([]),
  ]);
  const byId = new Map([...owned, ...shared].map((w) => [w._id.toString(), w]));
  return [...byId.values()].map(toWorkspaceDTO);
}

export async function createWorkspace(userId: string, body: unknown): Promise<WorkspaceDTO> {
  const input = parse(createWorkspaceBody, body);
  const ws = await Workspace.create({ name: input.name, ownerId: new Types.ObjectId(userId) });
  return toWorkspaceDTO(ws.toObject());
}

import mongoose, { Schema, type Types } from 'mongoose';
import { PROJECT_ROLES, type ProjectDTO, type ProjectRole } from '@collabflow/shared';

export interface ProjectDoc {
  _id: Types.ObjectId;
  name: string;
  description: string;
  workspaceId: Types.ObjectId | null;
  ownerId: Types.ObjectId;
  /** A checkpoint of the seq counter (projects/write-path.ts [W6]); the DTO carries the live one. */
  seq: number;
  createdAt: Date;
  updatedAt: Date;
}

const projectSchema = new Schema<ProjectDoc>(
  {
    name: { type: String, required: true, trim: true, maxlength: 100 },
    description: { type: String, default: '', maxlength: 10_000 },
    workspaceId: { type: Schema.Types.ObjectId, ref: 'Workspace', default: null },
    ownerId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    seq: { type: Number, default: 0 },
  },
  { timestamps: true },
);
projectSchema.index({ workspaceId: 1 });

export const Project = mongoose.model<ProjectDoc>('Project', projectSchema);

/** Membership lives in its own collection (unique per project + user), not in an embedded array. */
export interface MemberDoc {
  _id: Types.ObjectId;
  projectId: Types.ObjectId;
  userId: Types.ObjectId;
  role: ProjectRole;
  createdAt: Date;
}

const memberSchema = new Schema<MemberDoc>(
  {
    projectId: { type: Schema.Types.ObjectId, ref: 'Project', required: true },
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    role: { type: String, enum: PROJECT_ROLES, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
memberSchema.index({ projectId: 1, userId: 1 }, { unique: true });
memberSchema.index({ userId: 1 });

export const Member = mongoose.model<MemberDoc>('Member', memberSchema);

export function toProjectDTO(p: ProjectDoc, role?: ProjectRole): ProjectDTO {
  const dto: ProjectDTO = {
    id: p._id.toString(),
    name: p.name,
    description: p.description,
    workspaceId: p.workspaceId ? p.workspaceId.toString() : null,
    ownerId: p.ownerId.toString(),
    seq: p.seq,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
  if (role) dto.role = role;
  return dto;
}

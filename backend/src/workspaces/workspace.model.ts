import mongoose, { Schema, type Types } from 'mongoose';
import type { WorkspaceDTO } from '@collabflow/shared';

export interface WorkspaceDoc {
  _id: Types.ObjectId;
  name: string;
  ownerId: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

const workspaceSchema = new Schema<WorkspaceDoc>(
  {
    name: { type: String, required: true, trim: true, maxlength: 100 },
    ownerId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  },
  { timestamps: true },
);
workspaceSchema.index({ ownerId: 1 });

export const Workspace = mongoose.model<WorkspaceDoc>('Workspace', workspaceSchema);

export function toWorkspaceDTO(w: WorkspaceDoc): WorkspaceDTO {
  return {
    id: w._id.toString(),
    name: w.name,
    ownerId: w.ownerId.toString(),
    createdAt: w.createdAt.toISOString(),
  };
}

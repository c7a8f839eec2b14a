import mongoose, { Schema, type Types } from 'mongoose';
import type { ChannelDTO } from '@collabflow/shared';

export interface ChannelDoc {
  _id: Types.ObjectId;
  projectId: Types.ObjectId;
  name: string;
  createdBy: Types.ObjectId;
  createdAt: Date;
}

const channelSchema = new Schema<ChannelDoc>(
  {
    projectId: { type: Schema.Types.ObjectId, ref: 'Project', required: true },
    name: { type: String, required: true, maxlength: 80 },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
channelSchema.index({ projectId: 1, name: 1 }, { unique: true });

export const Channel = mongoose.model<ChannelDoc>('Channel', channelSchema);

export function toChannelDTO(c: ChannelDoc): ChannelDTO {
  return {
    id: c._id.toString(),
    projectId: c.projectId.toString(),
    name: c.name,
    createdAt: c.createdAt.toISOString(),
  };
}

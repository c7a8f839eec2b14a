import mongoose, { Schema, type Types } from 'mongoose';
import { LIMITS } from '@collabflow/shared';

export interface MessageDoc {
  _id: Types.ObjectId;
  channelId: Types.ObjectId;
  projectId: Types.ObjectId;
  senderId: Types.ObjectId;
  content: string;
  edited: boolean;
  deleted: boolean;
  clientId: string | null;
  /** The project seq of the chat:newMessage event: the one order every client shows. */
  seq: number;
  createdAt: Date;
  updatedAt: Date;
}

const messageSchema = new Schema<MessageDoc>(
  {
    channelId: { type: Schema.Types.ObjectId, ref: 'Channel', required: true },
    projectId: { type: Schema.Types.ObjectId, ref: 'Project', required: true },
    senderId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    content: { type: String, default: '', maxlength: LIMITS.messageMax },
    edited: { type: Boolean, default: false },
    deleted: { type: Boolean, default: false },
    clientId: { type: String, default: null },
    seq: { type: Number, required: true },
  },
  { timestamps: true },
);
// History pages: newest first within a channel, in seq order, cursor on seq.
messageSchema.index({ channelId: 1, seq: -1 });
// Cascade delete with the project.
messageSchema.index({ projectId: 1 });

export const Message = mongoose.model<MessageDoc>('Message', messageSchema);

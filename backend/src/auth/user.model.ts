import mongoose, { Schema, type Types } from 'mongoose';
import type { PublicUserDTO, UserDTO } from '@collabflow/shared';

export interface UserDoc {
  _id: Types.ObjectId;
  email: string;
  name: string;
  passwordHash: string;
  avatarColor: string;
  createdAt: Date;
  updatedAt: Date;
}

const userSchema = new Schema<UserDoc>(
  {
    email: {
      type: String,
      required: true,
      unique: true,
      lowercase: true,
      trim: true,
      maxlength: 254,
    },
    name: { type: String, required: true, trim: true, maxlength: 100 },
    passwordHash: { type: String, required: true },
    avatarColor: { type: String, required: true },
  },
  { timestamps: true },
);

export const User = mongoose.model<UserDoc>('User', userSchema);

export function toUserDTO(u: UserDoc): UserDTO {
  return { id: u._id.toString(), email: u.email, name: u.name, avatarColor: u.avatarColor };
}

export function toPublicUser(u: Pick<UserDoc, '_id' | 'name' | 'avatarColor'>): PublicUserDTO {
  return { id: u._id.toString(), name: u.name, avatarColor: u.avatarColor };
}

const PALETTE = [
  '#e11d48',
  '#db2777',
  '#9333ea',
  '#4f46e5',
  '#2563eb',
  '#0891b2',
  '#059669',
  '#65a30d',
  '#d97706',
  '#ea580c',
];

/** A stable colour per email, so a person keeps their colour across devices. */
export function avatarColorFor(email: string): string {
  let h = 0;
  for (const ch of email) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length] ?? '#2563eb';
}

import mongoose, { Schema, type Types } from 'mongoose';

/**
 * Refresh tokens are stored as SHA-256 hashes. Each login starts a family; every refresh rotates
 * the token inside its family. Presenting a rotated (already used) token revokes the family.
 * Expiry is enforced in application code (FerretDB 1.x has no TTL indexes).
 */
export interface RefreshTokenDoc {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  tokenHash: string;
  family: string;
  /** `login:<family>` for the first token of a login, else the id of the token it replaced. */
  parent: string;
  expiresAt: Date;
  revokedAt: Date | null;
  replacedBy: string | null;
  createdAt: Date;
}

const refreshTokenSchema = new Schema<RefreshTokenDoc>(
  {
    userId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
    tokenHash: { type: String, required: true, unique: true },
    family: { type: String, required: true, index: true },
    parent: { type: String, required: true, unique: true },
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    replacedBy: { type: String, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
refreshTokenSchema.index({ userId: 1 });

export const RefreshToken = mongoose.model<RefreshTokenDoc>('RefreshToken', refreshTokenSchema);

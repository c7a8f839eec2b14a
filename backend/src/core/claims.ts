import mongoose, { Schema, type Types } from 'mongoose';
import { isDuplicateKeyError } from './errors.js';

/**
 * Atomic "first writer wins" on any MongoDB-protocol server, FerretDB 1.x included.
 *
 * FerretDB 1.24, on its PostgreSQL handler as on SQLite, applies update and findAndModify as a
 * read-modify-write of the whole document without isolation: 50 concurrent `$inc` on one
 * document kept 7, and 30 concurrent compare-and-set updates on `{ _id, version: 0 }` had 5
 * winners (docs/storage.md). Its unique indexes, however, are the backend's unique indexes and
 * hold under concurrency. So every counter and every optimistic-concurrency check goes through
 * inserting a claim `(key, n)` under a unique index: exactly one caller gets a given `n`.
 */
interface ClaimDoc {
  _id: Types.ObjectId;
  k: string;
  n: number;
}

const claimSchema = new Schema<ClaimDoc>(
  { k: { type: String, required: true }, n: { type: Number, required: true } },
  { versionKey: false },
);
claimSchema.index({ k: 1, n: 1 }, { unique: true });

export const Claim = mongoose.model<ClaimDoc>('Claim', claimSchema);

/** True when this caller claimed `n` for `key`; false when someone else already had it. */
export async function claim(key: string, n: number): Promise<boolean> {
  try {
    await Claim.collection.insertOne({ k: key, n });
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

/** The highest number claimed for `key` (0 when none). */
export async function lastClaimed(key: string): Promise<number> {
  const last = await Claim.findOne({ k: key }).sort({ n: -1 }).lean();
  return last?.n ?? 0;
}

/** Claims the next number of a counter; concurrent callers each get a different one. */
export async function nextInSequence(key: string, maxAttempts = 50): Promise<number> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const n = (await lastClaimed(key)) + 1;
    if (await claim(key, n)) {
      // Keep a wide margin: a caller that read the counter long ago must still collide.
      if (n % 100 === 0) void forgetBelow(key, n - 1000).catch(() => undefined);
      return n;
    }
    await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
  }
  throw new Error(`could not claim the next number of ${key} after ${maxAttempts} attempts`);
}

/** Drops old claims that no longer matter (the newest is always kept). */
export async function forgetBelow(key: string, n: number): Promise<void> {
  await Claim.deleteMany({ k: key, n: { $lt: n } });
}

export async function forgetAll(key: string): Promise<void> {
  await Claim.deleteMany({ k: key });
}

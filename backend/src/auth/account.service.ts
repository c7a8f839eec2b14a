import { setTimeout as sleep } from 'node:timers/promises';
import type { Types } from 'mongoose';
import { changePasswordBody, deleteAccountBody } from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { AppError, errors, parse } from '../core/errors.js';
import { accessCache } from '../projects/access-cache.js';
import { Member, Project } from '../projects/project.model.js';
import { removeMember } from '../projects/project.service.js';
import { Workspace } from '../workspaces/workspace.model.js';
import { checkPassword, startSession, type Session } from './auth.service.js';
import { hashPassword } from './password.js';
import { RefreshToken } from './refresh-token.model.js';
import { User } from './user.model.js';

/**
 * The account's own changes ([C8] in docs/protocol.md): a password change and the deletion of
 * the account. Both end every login session of the user at once, on every replica: the refresh
 * tokens go, a per-user cutoff refuses every access token issued before it (auth/revocations.ts
 * `cutUser`, checked against the token's `iat`) and the user's sockets and SSE streams are ended.
 */

/** The account, or 401 if it is gone (a token that outlived its account). */
async function currentAccount(userId: string) {
  const user = await User.findById(userId).lean();
  if (!user) throw errors.unauthorized('account no longer exists');
  return user;
}

/**
 * Refuses, from now on and on every replica, every access token of the user issued before the
 * next whole second (`iat` has a resolution of one second, so a token from earlier in this
 * second is refused too), until those tokens have expired; ends the user's live connections.
 * Returns the cutoff (seconds).
 */
async function endEverySession(ctx: ServiceContext, userId: string): Promise<number> {
  const notBefore = Math.floor(Date.now() / 1000) + 1;
  await ctx.revocations.cutUser(
    userId,
    notBefore,
    notBefore * 1000 + ctx.config.JWT_ACCESS_TTL + 1000,
  );
  ctx.sessions.endUser(userId);
  return notBefore;
}

/**
 * POST /api/auth/password. The current password is checked like a login (it counts for the
 * login rate limits); then the new hash is stored, every refresh-token family of the user is
 * revoked, every access token issued before now is refused, the user's sockets and SSE streams
 * end, and a fresh login session is returned so the caller stays logged in on this device. Its
 * access token is issued once the cutoff second has begun (the answer waits at most 1 s), so it
 * and every later token of the user pass.
 */
export async function changePassword(
  ctx: ServiceContext,
  userId: string,
  body: unknown,
  ip: string,
): Promise<Session> {
  await ctx.limiters.loginIp.consume(ip);
  const input = parse(changePasswordBody, body, 'password change');
  const user = await currentAccount(userId);
  await checkPassword(ctx, user.email, ip, input.currentPassword, user.passwordHash);
  const passwordHash = await hashPassword(input.newPassword, ctx.config.PASSWORD_HASH_COST);
  const updated = await User.updateOne({ _id: user._id }, { $set: { passwordHash } });
  if (updated.matchedCount === 0) throw errors.unauthorized('account no longer exists');
  await RefreshToken.updateMany(
    { userId: user._id, revokedAt: null },
    { $set: { revokedAt: new Date() } },
  );
  const notBefore = await endEverySession(ctx, userId);
  const wait = notBefore * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
  ctx.logger.info({ userId }, 'password changed; every session ended');
  return startSession(ctx, { ...user, passwordHash });
}

/** The projects of which the user is the only owner: they block the account's deletion. */
async function projectsOnlyOwnedBy(uid: Types.ObjectId): Promise<string[]> {
  const owned = await Member.find({ userId: uid, role: 'owner' }, { projectId: 1 }).lean();
  const blocking: string[] = [];
  for (const m of owned) {
    const others = await Member.countDocuments({
      projectId: m.projectId,
      role: 'owner',
      userId: { $ne: uid },
    });
    if (others === 0) blocking.push(m.projectId.toString());
  }
  return blocking;
}

/**
 * DELETE /api/auth/me. The password is checked like a login. Refused with 409 `last_owner`
 * (details `{ projects }`) while the user is the only owner of a project: ownership must be
 * given to someone else, or the project deleted, first; nothing changes. Otherwise, in order:
 * the user leaves every project through the project's write path (`member:removed` is published,
 * every replica's access cache and rooms learn it), the refresh tokens are deleted, the user's
 * empty workspaces are deleted (a workspace that still holds a project, owned by its remaining
 * owners, is kept so they keep seeing it), the user document is deleted, every access token of
 * the user is refused and the user's sockets and SSE streams end on every replica.
 *
 * A race (another owner leaves between the check and this user's removal) stops the deletion
 * at that project with 409 `last_owner`; the memberships already given up stay given up.
 */
export async function deleteAccount(
  ctx: ServiceContext,
  userId: string,
  body: unknown,
  ip: string,
): Promise<void> {
  await ctx.limiters.loginIp.consume(ip);
  const input = parse(deleteAccountBody, body, 'account deletion');
  const user = await currentAccount(userId);
  await checkPassword(ctx, user.email, ip, input.password, user.passwordHash);
  const uid = user._id;
  const blocking = await projectsOnlyOwnedBy(uid);
  if (blocking.length > 0) {
    const n = blocking.length;
    throw errors.conflict(
      'last_owner',
      `you are the only owner of ${n} project${n === 1 ? '' : 's'}; give ownership to another member or delete ${n === 1 ? 'it' : 'them'} first`,
      { projects: blocking },
    );
  }
  const memberships = await Member.find({ userId: uid }, { projectId: 1 }).lean();
  for (const m of memberships) {
    try {
      await removeMember(ctx, userId, m.projectId.toString(), userId);
    } catch (err) {
      // Already gone (the project was deleted, or the user left meanwhile): nothing to remove.
      if (err instanceof AppError && err.status === 404) continue;
      throw err;
    }
  }
  await RefreshToken.deleteMany({ userId: uid });
  const workspaces = await Workspace.find({ ownerId: uid }, { _id: 1 }).lean();
  for (const w of workspaces) {
    if (!(await Project.exists({ workspaceId: w._id }))) await Workspace.deleteOne({ _id: w._id });
  }
  await User.deleteOne({ _id: uid });
  accessCache.forgetUser(userId);
  await endEverySession(ctx, userId);
  ctx.logger.info({ userId }, 'account deleted; every session ended');
}

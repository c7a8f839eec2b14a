import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { loginBody, registerBody, type UserDTO } from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { errors, isDuplicateKeyError, parse } from '../core/errors.js';
import { dummyHash, hashPassword, verifyPassword } from './password.js';
import { RefreshToken } from './refresh-token.model.js';
import { hashRefreshToken, newRefreshToken, signAccessToken, verifyAccessToken } from './tokens.js';
import { User, avatarColorFor, toUserDTO } from './user.model.js';

export interface Session {
  user: UserDTO;
  token: string;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/**
 * `parent` is unique: the login that started the family, or the token this one replaces. So a
 * token can be rotated once, even by concurrent requests (a unique-index insert is atomic on
 * FerretDB too, see docs/storage.md); the second insert fails with a duplicate key.
 */
async function issueRefreshToken(
  ctx: ServiceContext,
  userId: Types.ObjectId,
  family: string,
  parent: string,
) {
  const { token, hash } = newRefreshToken();
  const expiresAt = new Date(Date.now() + ctx.config.REFRESH_TOKEN_TTL);
  await RefreshToken.create({ userId, tokenHash: hash, family, parent, expiresAt });
  return { token, hash, expiresAt };
}

/** A new login session for `user`: a refresh-token family of its own and an access token. */
export async function startSession(
  ctx: ServiceContext,
  user: Parameters<typeof toUserDTO>[0],
): Promise<Session> {
  const family = randomUUID();
  const refresh = await issueRefreshToken(ctx, user._id, family, `login:${family}`);
  return {
    user: toUserDTO(user),
    token: signAccessToken(
      user._id.toString(),
      ctx.config.JWT_SECRET,
      ctx.config.JWT_ACCESS_TTL,
      family,
    ),
    refreshToken: refresh.token,
    refreshExpiresAt: refresh.expiresAt,
  };
}

/** Registrations count against the same per-IP budget as logins (RATE_LIMIT_LOGIN_PER_IP). */
export async function register(ctx: ServiceContext, body: unknown, ip: string): Promise<Session> {
  await ctx.limiters.loginIp.consume(ip);
  const input = parse(registerBody, body, 'registration');
  if (await User.exists({ email: input.email })) {
    throw errors.conflict('email_taken', 'an account with that email already exists');
  }
  const passwordHash = await hashPassword(input.password, ctx.config.PASSWORD_HASH_COST);
  let user;
  try {
    user = await User.create({
      email: input.email,
      name: input.name,
      passwordHash,
      avatarColor: avatarColorFor(input.email),
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) {
      throw errors.conflict('email_taken', 'an account with that email already exists');
    }
    throw err;
  }
  ctx.logger.info({ userId: user._id.toString() }, 'user registered');
  return startSession(ctx, user.toObject());
}

/** The longest an address that keeps failing for one e-mail is made to wait between attempts. */
export const LOGIN_DELAY_MAX_MS = 60_000;

/**
 * How long an address that just failed for an e-mail waits before its next attempt for it: none
 * below `threshold` failures for the e-mail in the window (RATE_LIMIT_LOGIN_PER_EMAIL), then 1 s,
 * doubling with every further failure, up to LOGIN_DELAY_MAX_MS.
 */
export function loginDelayMs(emailFailures: number, threshold: number): number {
  if (emailFailures < threshold) return 0;
  return Math.min(1000 * 2 ** (emailFailures - threshold), LOGIN_DELAY_MAX_MS);
}

/**
 * Unknown email and wrong password give the same 401 and take the same time.
 *
 * Guessing is limited without letting anyone lock an account:
 * - per address (RATE_LIMIT_LOGIN_PER_IP): every attempt takes a point and a successful one
 *   gives it back, so failures spend the budget and an attacker's own address runs out first;
 * - per e-mail: failures are counted, and past RATE_LIMIT_LOGIN_PER_EMAIL an address that fails
 *   again must wait (429 with Retry-After, growing with the e-mail's failures: `loginDelayMs`)
 *   before its next attempt for that e-mail. Only addresses that failed wait: the owner, from an
 *   address that is not over its own limit, logs in with the right password at once.
 * A successful login clears the e-mail's count and its address's wait.
 */
export async function login(ctx: ServiceContext, body: unknown, ip: string): Promise<Session> {
  await ctx.limiters.loginIp.consume(ip);
  const input = parse(loginBody, body, 'login');
  const user = await User.findOne({ email: input.email }).lean();
  await checkPassword(ctx, input.email, ip, input.password, user?.passwordHash);
  return startSession(ctx, user!);
}

/**
 * One password attempt for `email` from `ip` (its per-address point already taken), counted as
 * `login` describes: waits imposed on the pair are enforced, a failure (`hash` undefined: no such
 * account) counts for the e-mail and may make the pair wait, then throws 401
 * `invalid_credentials`; a success refunds the address and clears the e-mail's count and the
 * pair's wait. Login, the password change and the account deletion all go through it.
 */
export async function checkPassword(
  ctx: ServiceContext,
  email: string,
  ip: string,
  password: string,
  hash: string | undefined,
): Promise<void> {
  const { loginIp, loginEmail, loginDelay } = ctx.limiters;
  const pair = loginPairKey(email, ip);
  await loginDelay.check(pair);
  const ok = await verifyPassword(
    password,
    hash ?? (await dummyHash(ctx.config.PASSWORD_HASH_COST)),
  );
  if (!hash || !ok) {
    const failures = await loginEmail.add(email);
    const delay = loginDelayMs(failures, ctx.config.RATE_LIMIT_LOGIN_PER_EMAIL);
    if (delay > 0) await loginDelay.hold(pair, delay);
    throw errors.invalidCredentials();
  }
  await Promise.all([loginIp.refund(ip), loginEmail.reset(email), loginDelay.reset(pair)]);
}

/** The key of one address's attempts for one e-mail. */
function loginPairKey(email: string, ip: string): string {
  return `${email}|${ip}`;
}

/**
 * Rotates a refresh token: the old one is revoked and replaced. Presenting a token that was
 * already rotated means it leaked, so the whole family (that login's chain) is revoked, its
 * access tokens included.
 */
export async function refresh(
  ctx: ServiceContext,
  presented: string | undefined,
): Promise<Session> {
  if (!presented) throw errors.unauthorized('no refresh token; log in again');
  const hash = hashRefreshToken(presented);
  const stored = await RefreshToken.findOne({ tokenHash: hash }).lean();
  if (!stored) throw errors.unauthorized('unknown refresh token; log in again');
  if (stored.revokedAt) {
    await revokeFamily(stored.family);
    await ctx.revocations.revokeSession(stored.family, sessionTokensExpire(ctx));
    ctx.logger.warn(
      { userId: stored.userId.toString() },
      'rotated refresh token reused; session family revoked',
    );
    throw errors.unauthorized('refresh token was already used; log in again');
  }
  if (stored.expiresAt.getTime() <= Date.now())
    throw errors.unauthorized('refresh token expired; log in again');
  const user = await User.findById(stored.userId).lean();
  if (!user) throw errors.unauthorized('account no longer exists');
  let next;
  try {
    next = await issueRefreshToken(ctx, user._id, stored.family, stored._id.toString());
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    // A concurrent refresh with the same token won: treat it as reuse.
    await revokeFamily(stored.family);
    await ctx.revocations.revokeSession(stored.family, sessionTokensExpire(ctx));
    throw errors.unauthorized('refresh token was already used; log in again');
  }
  await RefreshToken.updateOne(
    { _id: stored._id },
    { $set: { revokedAt: new Date(), replacedBy: next.hash } },
  );
  return {
    user: toUserDTO(user),
    token: signAccessToken(
      user._id.toString(),
      ctx.config.JWT_SECRET,
      ctx.config.JWT_ACCESS_TTL,
      stored.family,
    ),
    refreshToken: next.token,
    refreshExpiresAt: next.expiresAt,
  };
}

/**
 * Ends a login session: its refresh-token family is revoked, and so is every access token issued
 * in it (by session id, and the presented bearer token by its id) until those tokens would have
 * expired, on every replica at once; the user's sockets and SSE streams are ended everywhere
 * (`ctx.sessions.endUser`). Either credential is enough; both are optional.
 */
export async function logout(
  ctx: ServiceContext,
  presented: string | undefined,
  accessToken: string | undefined,
): Promise<void> {
  const users = new Set<string>();
  if (accessToken) {
    const result = verifyAccessToken(accessToken, ctx.config.JWT_SECRET);
    if (result.ok) {
      const { sub, exp, jti, sid } = result.claims;
      if (jti) await ctx.revocations.revokeToken(jti, exp * 1000);
      if (sid) {
        // The session's refresh tokens too, or a refresh would hand out tokens already refused.
        await revokeFamily(sid);
        await ctx.revocations.revokeSession(sid, sessionTokensExpire(ctx));
      }
      users.add(sub);
    }
  }
  if (presented) {
    const stored = await RefreshToken.findOne(
      { tokenHash: hashRefreshToken(presented) },
      { family: 1, userId: 1 },
    ).lean();
    if (stored) {
      await revokeFamily(stored.family);
      await ctx.revocations.revokeSession(stored.family, sessionTokensExpire(ctx));
      users.add(stored.userId.toString());
    }
  }
  for (const userId of users) ctx.sessions.endUser(userId);
}

export async function revokeFamily(family: string): Promise<void> {
  await RefreshToken.updateMany({ family, revokedAt: null }, { $set: { revokedAt: new Date() } });
}

/** When every access token issued in a session until now has expired (a second of slack). */
export function sessionTokensExpire(ctx: ServiceContext): number {
  return Date.now() + ctx.config.JWT_ACCESS_TTL + 1000;
}

export async function me(userId: string): Promise<UserDTO> {
  const user = await User.findById(userId).lean();
  if (!user) throw errors.unauthorized('account no longer exists');
  return toUserDTO(user);
}

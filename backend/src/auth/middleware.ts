import type { NextFunction, Request, Response } from 'express';
import type { ServiceContext } from '../core/context.js';
import { AppError, errors } from '../core/errors.js';
import { checkAccessToken } from './access.js';

/** The authenticated user id, set by `authenticate`. */
export function currentUserId(res: Response): string {
  const id: unknown = res.locals.userId;
  if (typeof id !== 'string') throw errors.unauthorized();
  return id;
}

/** The token of an `Authorization: Bearer <token>` header, if the request has one. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
  return match?.[1];
}

/** Bearer JWT (not revoked: auth/access.ts) → `res.locals.userId`; then the per-user API rate limit. */
export function authenticate(ctx: ServiceContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    if (!token) return next(errors.unauthorized('missing bearer token'));
    try {
      const result = await checkAccessToken(token, ctx.config.JWT_SECRET, ctx.revocations);
      if (!result.ok) return next(new AppError(401, result.code, result.message));
      res.locals.userId = result.claims.sub;
      await ctx.limiters.api.consume(result.claims.sub);
      next();
    } catch (err) {
      next(err);
    }
  };
}

import type { NextFunction, Request, Response } from 'express';
import type { ServiceContext } from '../core/context.js';
import { AppError, errors } from '../core/errors.js';
import { verifyAccessToken } from './tokens.js';

/** The authenticated user id, set by `authenticate`. */
export function currentUserId(res: Response): string {
  const id: unknown = res.locals.userId;
  if (typeof id !== 'string') throw errors.unauthorized();
  return id;
}

/** Bearer JWT → `res.locals.userId`; then the per-user API rate limit. */
export function authenticate(ctx: ServiceContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match?.[1]) return next(errors.unauthorized('missing bearer token'));
    const result = verifyAccessToken(match[1], ctx.config.JWT_SECRET);
    if (!result.ok) return next(new AppError(401, result.code, result.message));
    res.locals.userId = result.claims.sub;
    try {
      await ctx.limiters.api.consume(result.claims.sub);
      next();
    } catch (err) {
      next(err);
    }
  };
}

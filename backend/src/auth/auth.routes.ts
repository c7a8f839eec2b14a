import { Router, type Request, type Response } from 'express';
import type { ServiceContext } from '../core/context.js';
import * as account from './account.service.js';
import * as auth from './auth.service.js';
import { authenticate, bearerToken, currentUserId } from './middleware.js';

export const REFRESH_COOKIE = 'cf_refresh';
const COOKIE_PATH = '/api/auth';

function setRefreshCookie(ctx: ServiceContext, res: Response, session: auth.Session) {
  res.cookie(REFRESH_COOKIE, session.refreshToken, {
    httpOnly: true,
    secure: ctx.config.NODE_ENV === 'production',
    sameSite: 'lax',
    path: COOKIE_PATH,
    expires: session.refreshExpiresAt,
  });
}

function refreshCookie(req: Request): string | undefined {
  const cookies: unknown = req.cookies;
  if (typeof cookies !== 'object' || cookies === null) return undefined;
  const value = (cookies as Record<string, unknown>)[REFRESH_COOKIE];
  return typeof value === 'string' ? value : undefined;
}

export function authRoutes(ctx: ServiceContext): Router {
  const r = Router();
  r.post('/register', async (req, res) => {
    const session = await auth.register(ctx, req.body, req.ip ?? 'unknown');
    setRefreshCookie(ctx, res, session);
    res.status(201).json({ user: session.user, token: session.token });
  });
  r.post('/login', async (req, res) => {
    const session = await auth.login(ctx, req.body, req.ip ?? 'unknown');
    setRefreshCookie(ctx, res, session);
    res.json({ user: session.user, token: session.token });
  });
  r.post('/refresh', async (req, res) => {
    try {
      const session = await auth.refresh(ctx, refreshCookie(req));
      setRefreshCookie(ctx, res, session);
      res.json({ token: session.token, user: session.user });
    } catch (err) {
      res.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
      throw err;
    }
  });
  r.post('/logout', async (req, res) => {
    await auth.logout(ctx, refreshCookie(req), bearerToken(req));
    res.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
    res.status(204).end();
  });
  r.get('/me', authenticate(ctx), async (_req, res) => {
    res.json({ user: await auth.me(currentUserId(res)) });
  });
  // Both end every session of the user on every replica ([C8]); the password change starts a
  // fresh one for this device.
  r.post('/password', authenticate(ctx), async (req, res) => {
    const session = await account.changePassword(
      ctx,
      currentUserId(res),
      req.body,
      req.ip ?? 'unknown',
    );
    setRefreshCookie(ctx, res, session);
    res.json({ user: session.user, token: session.token });
  });
  r.delete('/me', authenticate(ctx), async (req, res) => {
    await account.deleteAccount(ctx, currentUserId(res), req.body, req.ip ?? 'unknown');
    res.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
    res.status(204).end();
  });
  return r;
}

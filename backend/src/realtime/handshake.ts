import { SOCKET_ERROR_CODES, type ErrorInfo } from '@collabflow/shared';
import type { Config } from '../config.js';
import { authenticateAccess } from '../auth/access.js';
import { publicUser } from './live-presence.js';
import type { IO } from './types.js';

type Middleware = Parameters<IO['use']>[0];

/**
 * The handshake ([C1]): `auth.token` must be a valid access token of an existing account. A
 * refusal reaches the client as `connect_error` with `err.data = { code, message }`.
 */
export function handshake(config: Config): Middleware {
  return async (socket, next) => {
    const auth: unknown = socket.handshake.auth;
    const token =
      typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    const fail = (code: string, message: string) => {
      const err = new Error(message) as Error & { data?: ErrorInfo };
      err.data = { code, message };
      next(err);
    };
    if (typeof token !== 'string' || token.length === 0)
      return fail(SOCKET_ERROR_CODES.unauthorized, 'missing auth.token');
    const result = await authenticateAccess(token, config);
    if (!result.ok) return fail(result.code, result.message);
    try {
      const user = await publicUser(result.claims.sub);
      if (!user) return fail(SOCKET_ERROR_CODES.unauthorized, 'account no longer exists');
      socket.data.userId = result.claims.sub;
      socket.data.user = user;
      socket.data.tokenExp = result.claims.exp;
      next();
    } catch {
      fail('unavailable', 'the server cannot check your account right now; retry shortly');
    }
  };
}

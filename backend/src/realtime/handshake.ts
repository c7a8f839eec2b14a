import { SOCKET_ERROR_CODES, type ErrorInfo } from '@collabflow/shared';
import type { Config } from '../config.js';
import { authenticateAccess } from '../auth/access.js';
import { AppError } from '../core/errors.js';
import type { Limiter } from '../core/rate-limit.js';
import { tooManyConnections, type ConnectionSlots } from './connection-slots.js';
import { publicUser } from './live-presence.js';
import { clientAddress } from './transport.js';
import type { IO } from './types.js';

type Middleware = Parameters<IO['use']>[0];

/**
 * The handshake ([C1], [A4]): at most RATE_LIMIT_SOCKET_HANDSHAKES per client address per
 * window (this replica's count), `auth.token` must be a valid access token of an existing
 * account, and the user may hold at most MAX_SOCKETS_PER_USER sockets across the cluster. A
 * refusal reaches the client as `connect_error` with `err.data = { code, message, details? }`.
 */
export function handshake(config: Config, perAddress: Limiter, slots: ConnectionSlots): Middleware {
  return async (socket, next) => {
    const auth: unknown = socket.handshake.auth;
    const token =
      typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    const fail = (code: string, message: string, details?: unknown) => {
      const err = new Error(message) as Error & { data?: ErrorInfo };
      err.data = details === undefined ? { code, message } : { code, message, details };
      next(err);
    };
    try {
      await perAddress.consume(clientAddress(socket.conn) ?? socket.handshake.address);
    } catch (e) {
      if (e instanceof AppError) return fail(e.code, e.message);
      throw e;
    }
    if (typeof token !== 'string' || token.length === 0)
      return fail(SOCKET_ERROR_CODES.unauthorized, 'missing auth.token');
    const result = await authenticateAccess(token, config);
    if (!result.ok) return fail(result.code, result.message);
    try {
      const user = await publicUser(result.claims.sub);
      if (!user) return fail(SOCKET_ERROR_CODES.unauthorized, 'account no longer exists');
      const userId = result.claims.sub;
      if (!(await slots.acquire('socket', userId, socket.id, config.MAX_SOCKETS_PER_USER))) {
        const refused = tooManyConnections('socket', config.MAX_SOCKETS_PER_USER);
        return fail(refused.code, refused.message, refused.details);
      }
      // Given back when the connection closes, whether or not the socket ever connected (at
      // once if it closed during the awaits above: its 'close' has been emitted already).
      if (socket.conn.readyState === 'closed') {
        slots.release('socket', userId, socket.id);
        return fail(SOCKET_ERROR_CODES.unauthorized, 'the connection closed');
      }
      socket.conn.once('close', () => slots.release('socket', userId, socket.id));
      socket.data.userId = userId;
      socket.data.user = user;
      socket.data.tokenExp = result.claims.exp;
      next();
    } catch {
      fail('unavailable', 'the server cannot check your account right now; retry shortly');
    }
  };
}

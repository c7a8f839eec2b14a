import type { Config } from '../config.js';
import type { Revocations } from './revocations.js';
import { verifyAccessToken, type VerifyResult } from './tokens.js';

/** The revocation list each server's composition root registered for its configuration. */
const registered = new WeakMap<Config, Revocations>();

/** Called by the composition root (server.ts): `authenticateAccess(token, config)` uses `revocations`. */
export function registerRevocations(config: Config, revocations: Revocations): void {
  registered.set(config, revocations);
}

/**
 * Checks an access token at every door (REST, the socket handshake, SSE): signature, issuer,
 * audience, expiry, then the denylist (a logged-out session or token is refused at once, on
 * every replica) and the user's cutoff (a token issued before the user's password changed or the
 * account was deleted is refused at once, on every replica).
 */
export async function checkAccessToken(
  token: string,
  secret: string,
  revocations: Revocations | undefined,
): Promise<VerifyResult> {
  const result = verifyAccessToken(token, secret);
  if (!result.ok || !revocations) return result;
  if (await revocations.isRevoked(result.claims)) {
    return { ok: false, code: 'unauthorized', message: 'this session has ended; log in again' };
  }
  return result;
}

/** `checkAccessToken` with the revocation list of the server that owns `config`. */
export function authenticateAccess(token: string, config: Config): Promise<VerifyResult> {
  return checkAccessToken(token, config.JWT_SECRET, registered.get(config));
}

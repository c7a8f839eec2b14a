import type { Config } from '../config.js';
import type { Revocations } from '../auth/revocations.js';
import type { EventBus } from './event-bus.js';
import type { Logger } from './logger.js';
import type { Holds, Limiter } from './rate-limit.js';
import type { ProjectWrites } from '../projects/write-path.js';
import type { BoardCache } from '../tasks/board-cache.js';

/** What every service needs, built once by the composition root. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  bus: EventBus;
  /** The serialized write path of every project: seq, event log, outbox (projects/write-path.ts). */
  writes: ProjectWrites;
  /** The boards of the projects this replica writes to, kept exact by the events ([W7]). */
  boards: BoardCache;
  /** Access tokens and login sessions ended before their tokens expire (auth/revocations.ts). */
  revocations: Revocations;
  /**
   * Live connections of a user, ended on every replica when the user logs out (sockets and SSE
   * streams). A no-op until the real-time layer installs its own.
   */
  sessions: { endUser(userId: string): void };
  limiters: {
    api: Limiter;
    /** Failed logins per e-mail (counted, never refused: see auth.service.ts `login`). */
    loginEmail: Limiter;
    /** Login attempts and registrations per client address; successful logins are refunded. */
    loginIp: Limiter;
    /** Per e-mail and address: how long an address that keeps failing for an e-mail waits. */
    loginDelay: Holds;
  };
}

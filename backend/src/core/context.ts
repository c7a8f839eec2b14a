import type { Config } from '../config.js';
import type { EventBus } from './event-bus.js';
import type { Logger } from './logger.js';
import type { Limiter } from './rate-limit.js';
import type { ProjectWrites } from '../projects/write-path.js';

/** What every service needs, built once by the composition root. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  bus: EventBus;
  /** The serialized write path of every project: seq, event log, outbox (projects/write-path.ts). */
  writes: ProjectWrites;
  limiters: {
    api: Limiter;
    loginEmail: Limiter;
    loginIp: Limiter;
  };
}

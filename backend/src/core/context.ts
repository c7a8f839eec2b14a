import type { Config } from '../config.js';
import type { EventBus } from './event-bus.js';
import type { Logger } from './logger.js';
import type { Limiter } from './rate-limit.js';

/** What every service needs, built once by the composition root. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  bus: EventBus;
  limiters: {
    api: Limiter;
    loginEmail: Limiter;
    loginIp: Limiter;
  };
}

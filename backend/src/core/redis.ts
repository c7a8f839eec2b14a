import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

export type RedisState = 'connecting' | 'up' | 'down';

export interface ManagedRedis {
  client: Redis;
  state(): RedisState;
}

/**
 * One ioredis client with its own error listener, bounded reconnect back-off and one log line per
 * state change (never a line per failed attempt). `rediss://` URLs use TLS.
 */
export function createRedis(
  url: string,
  role: string,
  logger: Logger,
  overrides: RedisOptions = {},
): ManagedRedis {
  let state: RedisState = 'connecting';
  const log = logger.child({ redis: role });
  const client = new Redis(url, {
    lazyConnect: false,
    connectionName: `collabflow:${role}`,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 3000),
    reconnectOnError: () => false,
    ...overrides,
  });
  const transition = (next: RedisState, detail?: string) => {
    if (next === state) return;
    const prev = state;
    state = next;
    if (next === 'up') log.info({ from: prev }, 'redis connection up');
    else
      log.warn({ from: prev, reason: detail }, 'redis connection down; retrying in the background');
  };
  client.on('ready', () => transition('up'));
  client.on('error', (err: Error) => transition('down', err.message));
  client.on('end', () => transition('down', 'connection ended'));
  client.on('close', () => {
    if (state === 'up') transition('down', 'connection closed');
  });
  return { client, state: () => state };
}

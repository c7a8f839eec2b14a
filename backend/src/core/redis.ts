import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

export type RedisState = 'connecting' | 'up' | 'down';

/** Bounded exponential back-off: 100 ms, 200 ms, … capped at 2 s, forever. */
export const retryStrategy = (attempt: number): number =>
  Math.min(100 * 2 ** Math.min(attempt - 1, 5), 2000);

/**
 * The Redis connections of one replica (adapter publisher and subscriber, data client). Each
 * client has its own error listener and back-off; the group logs one line when Redis goes away
 * and one when every client is back, never a line per failed attempt.
 */
export class RedisConnections {
  readonly #clients = new Map<string, { client: Redis; state: RedisState }>();
  #state: RedisState = 'connecting';
  readonly #log: Logger;

  readonly #tls: RedisOptions['tls'];

  /** `tlsCaFile`: the CA of a `rediss://` server whose certificate a private authority signed. */
  constructor(
    private readonly url: string,
    logger: Logger,
    tlsCaFile?: string,
  ) {
    this.#log = logger.child({ component: 'redis' });
    // ioredis turns TLS on for rediss:// by itself, verifying against the system's CAs.
    if (url.startsWith('rediss://') && tlsCaFile) this.#tls = { ca: readFileSync(tlsCaFile) };
  }

  /** A new connection (`rediss://` means TLS). */
  create(role: string, overrides: RedisOptions = {}): Redis {
    const client = new Redis(this.url, {
      connectionName: `collabflow-${role}`,
      retryStrategy,
      ...(this.#tls ? { tls: this.#tls } : {}),
      ...overrides,
    });
    this.#watch(role, client);
    return client;
  }

  /** A second connection with the same address and TLS options (a subscriber cannot publish). */
  duplicate(source: Redis, role: string, overrides: RedisOptions = {}): Redis {
    const client = source.duplicate({ connectionName: `collabflow-${role}`, ...overrides });
    this.#watch(role, client);
    return client;
  }

  #watch(role: string, client: Redis) {
    const entry = { client, state: 'connecting' as RedisState };
    this.#clients.set(role, entry);
    const set = (state: RedisState, reason?: string) => {
      const changed = entry.state !== state;
      entry.state = state;
      this.#update(reason);
      if (changed && !this.#closing) for (const l of this.#listeners) l(role, state);
    };
    client.on('ready', () => set('up'));
    client.on('error', (err: Error) => set('down', err.message));
    client.on('close', () => {
      if (entry.state === 'up') set('down', 'connection closed');
    });
  }

  #closing = false;
  readonly #listeners = new Set<(role: string, state: RedisState) => void>();

  /**
   * Called whenever one connection goes down or comes back (the access cache starts a new epoch:
   * a message from another replica may have been missed). Returns the function that unsubscribes.
   */
  onConnectionChange(listener: (role: string, state: RedisState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #update(reason?: string) {
    if (this.#closing) return;
    const states = [...this.#clients.values()].map((c) => c.state);
    const next: RedisState = states.every((s) => s === 'up')
      ? 'up'
      : states.some((s) => s === 'down')
        ? 'down'
        : 'connecting';
    if (next === this.#state || next === 'connecting') return;
    const prev = this.#state;
    this.#state = next;
    if (next === 'up') this.#log.info({ from: prev }, 'redis up: cross-replica delivery active');
    else
      this.#log.warn(
        { from: prev, reason },
        'redis down: serving local clients only and refusing changes, reconnecting in the background',
      );
  }

  state(): RedisState {
    return this.#state;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      [...this.#clients.values()].map(async ({ client }) => {
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        try {
          await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 500))]);
        } catch {
          /* already closed */
        }
        client.disconnect();
      }),
    );
  }
}

/**
 * Makes `publish` never reject: while Redis is away a publish is dropped (and counted) instead of
 * surfacing as an unhandled rejection in code that does not await it (the Socket.IO adapter).
 * Clients recover what they missed from the event log by `seq`.
 */
export function dropPublishesWhileDown(client: Redis, onDrop: () => void): void {
  const publish = client.publish.bind(client);
  const safe = (channel: string | Buffer, message: string | Buffer): Promise<number> =>
    publish(channel, message).catch(() => {
      onDrop();
      return 0;
    });
  client.publish = safe as typeof client.publish;
}

/**
 * Typing state per (connection, channel) with an explicit expiry: a "typing" that is not
 * refreshed within `ttlMs` turns into "stopped typing" by itself.
 */
export class TypingTracker {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  constructor(
    private readonly ttlMs: number,
    private readonly onExpire: (connId: string, channelId: string) => void,
  ) {}

  /** Returns true when this changes the visible state (not typing → typing, or the reverse). */
  set(connId: string, channelId: string, isTyping: boolean): boolean {
    const key = `${connId} ${channelId}`;
    const had = this.#timers.get(key);
    if (had) clearTimeout(had);
    if (!isTyping) {
      this.#timers.delete(key);
      return had !== undefined;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.onExpire(connId, channelId);
    }, this.ttlMs);
    timer.unref();
    this.#timers.set(key, timer);
    return had === undefined;
  }

  /** Clears every typing state of a connection; returns the channels it was typing in. */
  clear(connId: string): string[] {
    const channels: string[] = [];
    for (const [key, timer] of this.#timers) {
      const [conn, channelId] = key.split(' ');
      if (conn === connId && channelId) {
        clearTimeout(timer);
        this.#timers.delete(key);
        channels.push(channelId);
      }
    }
    return channels;
  }
}

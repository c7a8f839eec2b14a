/**
 * Ends things (sockets, SSE streams) when their access token expires: one sweep per replica, not
 * a timer per connection. Items are bucketed by the second their token expires (JWT `exp` has
 * 1 s resolution); the sweep ends due buckets.
 */
export class ExpirySweep<T> {
  readonly #buckets = new Map<number, Set<T>>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly onExpire: (item: T) => void,
    intervalMs = 250,
  ) {
    this.#timer = setInterval(() => this.#sweep(), intervalMs);
    this.#timer.unref();
  }

  #sweep() {
    const now = Date.now();
    for (const [exp, items] of this.#buckets) {
      if (exp * 1000 > now) continue;
      this.#buckets.delete(exp);
      for (const item of items) this.onExpire(item);
    }
  }

  /** Tracks `item` until `exp` (seconds since the epoch); one that is already due ends now. */
  add(exp: number, item: T): void {
    if (exp * 1000 <= Date.now()) {
      this.onExpire(item);
      return;
    }
    let bucket = this.#buckets.get(exp);
    if (!bucket) this.#buckets.set(exp, (bucket = new Set()));
    bucket.add(item);
  }

  remove(exp: number, item: T): void {
    const bucket = this.#buckets.get(exp);
    if (!bucket) return;
    bucket.delete(item);
    if (bucket.size === 0) this.#buckets.delete(exp);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#buckets.clear();
  }
}

/**
 * Runs `fn` until it succeeds, at most `attempts` times, waiting `delayMs` doubled after each
 * failure (capped at `maxDelayMs`); rethrows the last error. The one retry loop of the real-time
 * layer.
 */
export async function retry<T>(
  fn: () => Promise<T>,
  opts: { attempts: number; delayMs: number; maxDelayMs?: number },
): Promise<T> {
  let delay = opts.delayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.attempts) throw err;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 5_000);
    }
  }
}

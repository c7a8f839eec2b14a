/**
 * "Nothing arrived" checks end on a sentinel, never on a fixed sleep (issue 8): after the thing
 * that must not arrive, send something that must arrive, through the same path (the same
 * publishing replica, hence the same Redis connection, whose messages Redis delivers in order,
 * and the same receiving connection). Once the sentinel is in, whatever was sent before it on
 * that path is in too, so "nothing but the sentinel" proves the earlier thing never came.
 */
import { waitUntil } from './cluster.js';

export interface SentinelOptions {
  /** How long the sentinel may take (a slow machine is not a reason to give up early). */
  timeoutMs?: number;
  /**
   * For volatile events (typing), which the server may drop when the connection is busy: send
   * again every `resendMs` until one arrives. Every copy is still sent after the forbidden thing.
   */
  resendMs?: number;
}

/** Sends the sentinel and waits until `arrived` says it is in. */
export async function sentinel(
  send: () => Promise<unknown>,
  arrived: () => boolean,
  what: string,
  opts: SentinelOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  await send();
  if (opts.resendMs === undefined) {
    await waitUntil(arrived, timeoutMs, `sentinel: ${what}`);
    return;
  }
  const start = Date.now();
  for (;;) {
    try {
      await waitUntil(arrived, opts.resendMs, `sentinel: ${what}`);
      return;
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err;
      await send();
    }
  }
}

/** A real SSE client on fetch, for tests: frames as they arrive, and when the stream ended. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

export interface SseClient {
  res: Response;
  frames: SseFrame[];
  /** Resolves when the server ends the stream (not when `close` aborts it). */
  ended: Promise<void>;
  isEnded(): boolean;
  /** The error that broke the stream, if any (a `close` is not one). */
  failure(): unknown;
  close(): void;
}

export async function openSse(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const frames: SseFrame[] = [];
  let done = false;
  let failure: unknown;
  let ended: Promise<void> = Promise.resolve();
  if (res.ok && res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    ended = (async () => {
      try {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buf += decoder.decode(chunk.value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const frame: SseFrame = {};
            let isFrame = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':') || line === '') continue; // comment (keepalive)
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id' || field === 'event') frame[field] = value;
              else if (field === 'data')
                frame.data = frame.data ? `${frame.data}\n${value}` : value;
              else continue; // retry: and unknown fields
              isFrame = true;
            }
            if (isFrame) frames.push(frame);
          }
        }
        done = true;
      } catch (err) {
        if (!abort.signal.aborted) {
          failure = err;
          throw err;
        }
      }
    })();
  }
  return {
    res,
    frames,
    ended,
    isEnded: () => done,
    failure: () => failure,
    close: () => abort.abort(),
  };
}

/** The parsed data of the frames of one event type. */
export function dataOf<T = Record<string, unknown>>(frames: SseFrame[], event: string): T[] {
  return frames.filter((f) => f.event === event).map((f) => JSON.parse(f.data ?? 'null') as T);
}

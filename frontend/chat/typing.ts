/**
 * Typing indicators. Incoming: who is typing in which channel, each entry expiring after 6 s
 * without news, and the sentence that names them. Outgoing: a throttled signal — `true` at most
 * every 2 s while keys are pressed, `false` after 3 s idle or when told to stop (send, blur).
 */

export const TYPING_EXPIRE_MS = 6000;
export const TYPING_THROTTLE_MS = 2000;
export const TYPING_IDLE_MS = 3000;

export interface TypingEntry {
  userId: string;
  name: string;
  channelId: string;
  expiresAt: number;
}

export interface TypingEvent {
  channelId: string;
  userId: string;
  user?: { name?: string };
  isTyping: boolean;
}

/** Applies one `chat:userTyping` event; the current user's own events are ignored. */
export function applyTypingEvent(
  entries: TypingEntry[],
  ev: TypingEvent,
  meId: string,
  now: number,
): TypingEntry[] {
  if (ev.userId === meId) return entries;
  const rest = entries.filter((e) => !(e.userId === ev.userId && e.channelId === ev.channelId));
  if (!ev.isTyping) return rest.length === entries.length ? entries : rest;
  return [
    ...rest,
    {
      userId: ev.userId,
      name: ev.user?.name?.trim() || 'Someone',
      channelId: ev.channelId,
      expiresAt: now + TYPING_EXPIRE_MS,
    },
  ];
}

/** Drops expired entries (returns the same array when nothing expired). */
export function pruneTyping(entries: TypingEntry[], now: number): TypingEntry[] {
  const live = entries.filter((e) => e.expiresAt > now);
  return live.length === entries.length ? entries : live;
}

/** When the next entry expires, or null when there are none. */
export function nextExpiry(entries: TypingEntry[]): number | null {
  return entries.length ? Math.min(...entries.map((e) => e.expiresAt)) : null;
}

/** Names of the people typing in a channel, in the order they started. */
export function typingNames(entries: TypingEntry[], channelId: string, now: number): string[] {
  return entries.filter((e) => e.channelId === channelId && e.expiresAt > now).map((e) => e.name);
}

/** "Bob is typing…", "Bob and Carol are typing…", "Bob, Carol and 2 others are typing…". */
export function typingSentence(names: string[]): string {
  const [a, b, c] = names;
  if (a === undefined) return '';
  if (b === undefined) return `${a} is typing…`;
  if (c === undefined) return `${a} and ${b} are typing…`;
  if (names.length === 3) return `${a}, ${b} and ${c} are typing…`;
  return `${a}, ${b} and ${names.length - 2} others are typing…`;
}

/** The outgoing side: call `input()` on every edit and `stop()` on send or blur. */
export class TypingSignal {
  private typing = false;
  private lastSent = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (isTyping: boolean) => void,
    private readonly now: () => number = () => Date.now(),
    private readonly throttleMs = TYPING_THROTTLE_MS,
    private readonly idleMs = TYPING_IDLE_MS,
  ) {}

  input(): void {
    const t = this.now();
    if (!this.typing || t - this.lastSent >= this.throttleMs) {
      this.typing = true;
      this.lastSent = t;
      this.send(true);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), this.idleMs);
  }

  stop(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    if (!this.typing) return;
    this.typing = false;
    this.send(false);
  }
}

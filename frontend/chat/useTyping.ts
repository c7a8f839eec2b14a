'use client';
/** Typing indicators over the socket: who else is typing here, and this person's own signal. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { emitWithAck, useSocketEvent } from '@/hooks/useSocket';
import type { AppSocket } from '@/lib/socket';
import { applyTypingEvent, nextExpiry, pruneTyping, typingNames, TypingSignal } from './typing';
import type { TypingEntry } from './typing';

/** Names of the others typing in `channelId` (from `chat:userTyping`, each expiring after 6 s). */
export function useTypingNames(
  socket: AppSocket | null,
  channelId: string | null,
  meId: string,
): string[] {
  const [entries, setEntries] = useState<TypingEntry[]>([]);
  useSocketEvent(socket, 'chat:userTyping', (ev) =>
    setEntries((list) => pruneTyping(applyTypingEvent(list, ev, meId, Date.now()), Date.now())),
  );
  // A new connection starts with nobody typing; the others' next signal brings them back.
  useEffect(() => {
    if (!socket) return;
    const clear = () => setEntries([]);
    socket.on('disconnect', clear);
    return () => {
      socket.off('disconnect', clear);
    };
  }, [socket]);

  const expiry = nextExpiry(entries);
  useEffect(() => {
    if (expiry === null) return;
    const t = setTimeout(
      () => setEntries((list) => pruneTyping(list, Date.now())),
      Math.max(0, expiry - Date.now()) + 50,
    );
    return () => clearTimeout(t);
  }, [expiry]);

  // Expired entries are pruned by the timer above, so every entry left is live.
  return useMemo(
    () => (channelId ? typingNames(entries, channelId, -Infinity) : []),
    [entries, channelId],
  );
}

/** This person's typing signal for one channel: `input()` on each edit, `stop()` on send/blur. */
export function useTypingSignal(
  socket: AppSocket | null,
  channelId: string,
): { input: () => void; stop: () => void } {
  const ref = useRef<TypingSignal | null>(null);
  useEffect(() => {
    if (!socket) return;
    const signal = new TypingSignal((isTyping) => {
      if (socket.connected)
        emitWithAck(socket, 'chat:typing', { channelId, isTyping }).catch(() => {});
    });
    ref.current = signal;
    return () => {
      signal.stop();
      if (ref.current === signal) ref.current = null;
    };
  }, [socket, channelId]);
  return useMemo(
    () => ({ input: () => ref.current?.input(), stop: () => ref.current?.stop() }),
    [],
  );
}

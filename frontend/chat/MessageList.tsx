'use client';
/**
 * The scrolling history of one channel. Older pages load when the person nears the top, and the
 * message that was first stays exactly where it was (scrollTop moves by the height added above
 * it). New messages keep the view pinned to the bottom when it was there; otherwise a
 * "New messages" button appears.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ChannelHistory } from './chat-store';
import type { MentionMember } from './mentions';
import { MessageItem, type MessageActions } from './MessageItem';
import styles from './chat.module.css';

const BOTTOM_SLACK_PX = 48;
const TOP_LOAD_PX = 120;

function isNearBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
}

function findMessage(el: HTMLElement, id: string): HTMLElement | null {
  return el.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(id)}"]`);
}

export function MessageList({
  channelName,
  history,
  meId,
  members,
  actions,
  onLoadOlder,
  onRetryLoad,
}: {
  channelName: string;
  history: ChannelHistory;
  meId: string;
  members: MentionMember[];
  actions: MessageActions;
  onLoadOlder: () => void;
  onRetryLoad: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  /** The first message and its offset after the last render: the anchor when a page is prepended. */
  const anchor = useRef<{ id: string; top: number } | null>(null);
  const lastId = useRef<string | null>(null);
  const [showNew, setShowNew] = useState(false);
  const { messages, status, cursor, loadingOlder, olderError } = history;

  const scrollToBottom = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setShowNew(false);
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = messages[0];
    const last = messages.at(-1);
    const wasAtBottom = atBottom.current;
    const prev = anchor.current;
    if (prev && first && first.id !== prev.id) {
      const node = findMessage(el, prev.id);
      if (node) el.scrollTop += node.offsetTop - prev.top;
    }
    if (last && last.id !== lastId.current) {
      const firstFill = lastId.current === null;
      const mine = last.sender.id === meId;
      if (firstFill || wasAtBottom || mine) scrollToBottom();
      else setShowNew(true);
    } else if (wasAtBottom) {
      el.scrollTop = el.scrollHeight;
    }
    lastId.current = last?.id ?? null;
  }, [messages, meId, scrollToBottom]);

  // After every render (also when only the top line changes): where the first message is now.
  useLayoutEffect(() => {
    const el = ref.current;
    const first = messages[0];
    const node = el && first ? findMessage(el, first.id) : null;
    anchor.current = first && node ? { id: first.id, top: node.offsetTop } : null;
  });

  // Keep the bottom pinned while the panel changes size (drawer opening, phone keyboard).
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const canLoadOlder = status === 'ready' && cursor !== null && !loadingOlder && !olderError;

  // A short history that does not fill the view cannot be scrolled: fetch more right away.
  useEffect(() => {
    const el = ref.current;
    if (!el || !canLoadOlder || el.clientHeight === 0) return;
    if (el.scrollHeight <= el.clientHeight) onLoadOlder();
  }, [messages, canLoadOlder, onLoadOlder]);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    atBottom.current = isNearBottom(el);
    if (atBottom.current && showNew) setShowNew(false);
    if (el.scrollTop < TOP_LOAD_PX && canLoadOlder) onLoadOlder();
  };

  const empty = messages.length === 0;
  return (
    <div className={styles.listWrap}>
      <div
        ref={ref}
        className={styles.list}
        role="log"
        aria-label={`Messages in #${channelName}`}
        aria-busy={status === 'loading' || loadingOlder ? true : undefined}
        tabIndex={0}
        onScroll={onScroll}
      >
        {!empty && (
          <div className={styles.listTop}>
            {loadingOlder ? (
              <p className="muted small">Loading earlier messages…</p>
            ) : olderError ? (
              <p className="small">
                <span className="field-error">Could not load earlier messages: {olderError} </span>
                <button type="button" className="btn btn-small" onClick={onLoadOlder}>
                  Try again
                </button>
              </p>
            ) : cursor === null ? (
              <p className="muted small">This is the start of #{channelName}.</p>
            ) : null}
          </div>
        )}
        {empty && status === 'loading' && <LoadingSkeleton />}
        {empty && status === 'error' && (
          <div className={`alert alert-error ${styles.listAlert}`} role="alert">
            <p>Could not load the messages. {history.error}</p>
            <button type="button" className="btn btn-small" onClick={onRetryLoad}>
              Try again
            </button>
          </div>
        )}
        {empty && status === 'ready' && (
          <p className="empty">No messages yet. Say hello to the team.</p>
        )}
        {messages.map((m) => (
          <MessageItem key={m.id} message={m} meId={meId} members={members} actions={actions} />
        ))}
      </div>
      {showNew && (
        <button
          type="button"
          className={`btn btn-primary btn-small ${styles.newMessages}`}
          onClick={scrollToBottom}
        >
          New messages ↓
        </button>
      )}
    </div>
  );
}

function LoadingSkeleton() {
  return (
    <div className={styles.skeletons}>
      <span className="sr-only">Loading messages…</span>
      {[70, 45, 85, 55].map((w, i) => (
        <div key={i} className={styles.skeletonRow} aria-hidden="true">
          <span className={`skeleton ${styles.skeletonAvatar}`} />
          <span className={`skeleton ${styles.skeletonLine}`} style={{ width: `${w}%` }} />
        </div>
      ))}
    </div>
  );
}

'use client';
/**
 * The message box: Enter sends, Shift+Enter adds a line, typing signals go out throttled, and
 * `@` + letters opens a list of matching members (arrow keys, Enter or Tab, or the mouse) that
 * inserts `@Full Name `.
 */
import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { LIMITS } from '@collabflow/shared';
import { Avatar } from '@/presence/Avatar';
import type { AppSocket } from '@/lib/socket';
import {
  findMentionQuery,
  insertMention,
  suggestMembers,
  type MentionMember,
  type MentionQuery,
} from './mentions';
import { useTypingSignal } from './useTyping';
import styles from './chat.module.css';

const MAX_HEIGHT_PX = 160;

export function Composer({
  channelId,
  channelName,
  members,
  meId,
  socket,
  draft,
  onDraftChange,
  onSend,
}: {
  channelId: string;
  channelName: string;
  members: (MentionMember & { avatarColor?: string })[];
  meId: string;
  socket: AppSocket | null;
  draft: string;
  onDraftChange: (text: string) => void;
  onSend: (content: string) => void;
}) {
  const [text, setTextState] = useState(draft);
  const [caret, setCaret] = useState(draft.length);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [pick, setPick] = useState({ key: '', index: 0 });
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const nextCaret = useRef<number | null>(null);
  const typing = useTypingSignal(socket, channelId);
  const listId = useId();
  const hintId = useId();
  const errorId = useId();

  const query: MentionQuery | null = findMentionQuery(text, caret);
  const suggestions =
    query && query.start !== dismissedAt ? suggestMembers(members, query.query, meId) : [];
  const open = suggestions.length > 0;
  const queryKey = query ? `${query.start}:${query.query}` : '';
  const active = pick.key === queryKey ? Math.min(pick.index, suggestions.length - 1) : 0;
  const optionId = (i: number) => `${listId}-opt-${i}`;

  const setText = (value: string) => {
    setTextState(value);
    onDraftChange(value);
    if (error) setError(null);
  };

  // Grow with the text up to a limit; put the caret after an inserted mention.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
    if (nextCaret.current !== null) {
      el.setSelectionRange(nextCaret.current, nextCaret.current);
      nextCaret.current = null;
    }
  }, [text]);

  const choose = (m: MentionMember) => {
    if (!query) return;
    const r = insertMention(text, query, m.name);
    setText(r.text);
    setCaret(r.caret);
    nextCaret.current = r.caret;
    ref.current?.focus();
  };

  const submit = () => {
    const content = text.trim();
    if (!content) return;
    if (content.length > LIMITS.messageMax) {
      setError(
        `This message is ${content.length.toLocaleString()} characters long; the limit is ${LIMITS.messageMax.toLocaleString()}.`,
      );
      return;
    }
    typing.stop();
    onSend(content);
    setText('');
    setCaret(0);
    setDismissedAt(null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing) return;
    if (open) {
      const n = suggestions.length;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const index = (active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        setPick({ key: queryKey, index });
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || (e.key === 'Tab' && !e.shiftKey)) {
        e.preventDefault();
        const m = suggestions[active];
        if (m) choose(m);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissedAt(query?.start ?? null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <form
      className={styles.composer}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {open && (
        <ul id={listId} role="listbox" aria-label="Mention a member" className={styles.mentions}>
          {suggestions.map((m, i) => (
            <li
              key={m.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              className={styles.mentionOption}
              onMouseDown={(e) => e.preventDefault()}
              onMouseEnter={() => setPick({ key: queryKey, index: i })}
              onClick={() => choose(m)}
            >
              <Avatar user={m} />
              <span>{m.name}</span>
            </li>
          ))}
        </ul>
      )}
      <span className="sr-only" role="status">
        {open
          ? `${suggestions.length} ${suggestions.length === 1 ? 'member matches' : 'members match'}. Arrow keys to choose, Enter to insert.`
          : ''}
      </span>
      <div className={styles.composerRow}>
        <textarea
          ref={ref}
          className={`textarea ${styles.composerInput}`}
          rows={1}
          value={text}
          placeholder={`Message #${channelName}`}
          aria-label={`Message #${channelName}`}
          aria-describedby={error ? `${errorId} ${hintId}` : hintId}
          aria-invalid={error ? true : undefined}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? optionId(active) : undefined}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart);
            if (e.target.value) typing.input();
            else typing.stop();
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onBlur={() => typing.stop()}
        />
        <button type="submit" className="btn btn-primary" disabled={!text.trim()}>
          Send
        </button>
      </div>
      <span id={hintId} className="sr-only">
        Enter sends, Shift+Enter starts a new line, @ mentions a member.
      </span>
      {error && (
        <p id={errorId} className="field-error small" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

'use client';
/**
 * One message: avatar, name, time, the text with mentions highlighted (as text: React escapes
 * it), "(edited)", "message deleted", and for one's own messages edit and delete. An unconfirmed
 * message says "Sending…", or why it failed with Retry and Discard.
 */
import {
  memo,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { LIMITS } from '@collabflow/shared';
import { Avatar } from '@/presence/Avatar';
import type { ChatMessage } from './chat-store';
import { mentionSegments, type MentionMember } from './mentions';
import styles from './chat.module.css';

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? ''
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export interface MessageActions {
  onEdit: (messageId: string, content: string) => Promise<void>;
  onDelete: (messageId: string) => Promise<void>;
  onRetry: (message: ChatMessage) => void;
  onDiscard: (message: ChatMessage) => void;
}

type Mode = 'view' | 'edit' | 'confirm-delete';

export const MessageItem = memo(function MessageItem({
  message,
  meId,
  members,
  actions,
}: {
  message: ChatMessage;
  meId: string;
  members: MentionMember[];
  actions: MessageActions;
}) {
  const [mode, setMode] = useState<Mode>('view');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const articleRef = useRef<HTMLElement>(null);
  const segments = useMemo(
    () => (message.deleted ? [] : mentionSegments(message.content, members, meId)),
    [message.content, message.deleted, members, meId],
  );
  const mentionsMe = segments.some((s) => s.kind === 'mention' && s.me);
  const mine = message.sender.id === meId;
  const canChange = mine && !message.local && !message.deleted;
  const failed = message.local?.status === 'failed' ? message.local.error : null;

  const backToView = () => {
    setMode('view');
    setError(null);
    articleRef.current?.focus();
  };
  const remove = async () => {
    setBusy(true);
    try {
      await actions.onDelete(message.id);
      backToView();
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not delete the message.');
    } finally {
      setBusy(false);
    }
  };

  const classes = [
    styles.message,
    mentionsMe ? styles.mentionsMe : '',
    message.local ? styles.pending : '',
    failed ? styles.failed : '',
  ];
  return (
    <article
      ref={articleRef}
      tabIndex={-1}
      className={classes.filter(Boolean).join(' ')}
      data-message-id={message.id}
      data-mentions-me={mentionsMe ? 'true' : undefined}
      data-pending={message.local ? message.local.status : undefined}
    >
      <Avatar user={message.sender} />
      <div className={styles.messageBody}>
        <header className={styles.messageHeader}>
          <span className={styles.sender}>{message.sender.name}</span>
          {message.local?.status === 'sending' ? (
            <span className="muted small">Sending…</span>
          ) : (
            <time
              className="muted small"
              dateTime={message.createdAt}
              title={new Date(message.createdAt).toLocaleString()}
            >
              {formatTime(message.createdAt)}
            </time>
          )}
          {message.edited && !message.deleted && <span className="muted small">(edited)</span>}
          {canChange && mode === 'view' && (
            <span className={styles.actions}>
              <button
                type="button"
                className={`btn btn-ghost btn-small ${styles.actionButton}`}
                onClick={() => setMode('edit')}
              >
                Edit
              </button>
              <button
                type="button"
                className={`btn btn-ghost btn-small ${styles.actionButton}`}
                onClick={() => setMode('confirm-delete')}
              >
                Delete
              </button>
            </span>
          )}
        </header>

        {mode === 'edit' ? (
          <EditForm
            initial={message.content}
            onSave={async (content) => {
              await actions.onEdit(message.id, content);
              backToView();
            }}
            onCancel={backToView}
          />
        ) : message.deleted ? (
          <p className={`${styles.content} ${styles.deleted}`}>message deleted</p>
        ) : (
          <p className={styles.content}>
            {segments.map((s, i) =>
              s.kind === 'text' ? (
                <span key={i}>{s.text}</span>
              ) : (
                <span
                  key={i}
                  className={s.me ? styles.mentionMe : styles.mention}
                  data-mention={s.userId}
                >
                  {s.text}
                </span>
              ),
            )}
          </p>
        )}

        {failed && (
          <div className={styles.failure}>
            <p className="field-error small" role="alert">
              Not sent: {failed}
            </p>
            <button
              type="button"
              className="btn btn-small"
              onClick={() => actions.onRetry(message)}
            >
              Retry
            </button>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              onClick={() => actions.onDiscard(message)}
            >
              Discard
            </button>
          </div>
        )}

        {canChange && mode === 'confirm-delete' && (
          <div className={styles.confirm} role="group" aria-label="Delete this message?">
            <span className="small">Delete this message?</span>
            <button
              type="button"
              className="btn btn-danger btn-small"
              onClick={() => void remove()}
              disabled={busy}
              autoFocus
            >
              Yes, delete
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={backToView}>
              Cancel
            </button>
          </div>
        )}
        {error && mode !== 'edit' && (
          <p className="field-error small" role="alert">
            {error}
          </p>
        )}
      </div>
    </article>
  );
});

function EditForm({
  initial,
  onSave,
  onCancel,
}: {
  initial: string;
  onSave: (content: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorId = useId();
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    formRef.current?.scrollIntoView({ block: 'nearest' });
  }, []);

  const save = async (e?: FormEvent) => {
    e?.preventDefault();
    const content = text.trim();
    if (!content) return setError('A message cannot be empty. Delete it instead.');
    if (content.length > LIMITS.messageMax)
      return setError(`That is ${content.length} characters; the limit is ${LIMITS.messageMax}.`);
    if (content === initial.trim()) return onCancel();
    setBusy(true);
    setError(null);
    try {
      await onSave(content);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not save the message.');
      setBusy(false);
    }
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    }
  };

  return (
    <form ref={formRef} className={styles.editForm} onSubmit={save}>
      <textarea
        className={`textarea ${styles.editInput}`}
        aria-label="Edit message"
        aria-describedby={error ? errorId : undefined}
        aria-invalid={error ? true : undefined}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        readOnly={busy}
        autoFocus
        onFocus={(e) => e.currentTarget.setSelectionRange(text.length, text.length)}
      />
      <div className={styles.editButtons}>
        <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="btn btn-ghost btn-small" onClick={onCancel}>
          Cancel
        </button>
        <span className="muted small">Enter to save, Esc to cancel</span>
      </div>
      {error && (
        <p id={errorId} className="field-error small" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

'use client';
/** The project's channels as buttons with unread badges, and the form that creates one. */
import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ChannelDTO } from '@collabflow/shared';
import { unreadLabel, validateChannelName } from './chat-store';
import styles from './chat.module.css';

export function ChannelBar({
  channels,
  activeId,
  unread,
  canCreate,
  onSelect,
  onCreate,
}: {
  channels: ChannelDTO[];
  activeId: string | null;
  unread: Record<string, number>;
  canCreate: boolean;
  onSelect: (channelId: string) => void;
  onCreate: (name: string) => Promise<unknown>;
}) {
  const [creating, setCreating] = useState(false);
  const formId = useId();
  return (
    <div className={styles.channelBar}>
      <div className={styles.channelRow}>
        <ul className={styles.channelList} aria-label="Channels">
          {channels.map((c) => {
            const count = unread[c.id] ?? 0;
            return (
              <li key={c.id}>
                <button
                  type="button"
                  className={styles.channelButton}
                  aria-current={c.id === activeId ? 'true' : undefined}
                  onClick={() => onSelect(c.id)}
                >
                  {count > 0 ? (
                    <>
                      {/* The name is "#general, 3 unread"; the badge shows the number only. */}
                      <span className="sr-only">{`#${c.name}, ${unreadLabel(count)}`}</span>
                      <span className={styles.channelName} aria-hidden="true">
                        #{c.name}
                      </span>
                      <span
                        className={styles.badge}
                        data-testid={`unread-${c.name}`}
                        title={unreadLabel(count)}
                        aria-hidden="true"
                      >
                        {count > 99 ? '99+' : count}
                      </span>
                    </>
                  ) : (
                    <span className={styles.channelName}>#{c.name}</span>
                  )}
                </button>
              </li>
            );
          })}
        </ul>
        {canCreate && (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            aria-expanded={creating}
            aria-controls={creating ? formId : undefined}
            onClick={() => setCreating((v) => !v)}
          >
            + Channel
          </button>
        )}
      </div>
      {creating && (
        <NewChannelForm
          id={formId}
          channels={channels}
          onCreate={onCreate}
          onClose={() => setCreating(false)}
        />
      )}
    </div>
  );
}

function NewChannelForm({
  id,
  channels,
  onCreate,
  onClose,
}: {
  id: string;
  channels: ChannelDTO[];
  onCreate: (name: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const noteId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = validateChannelName(name, channels);
    if (!checked.ok) return setError(checked.error);
    setBusy(true);
    setError(null);
    try {
      await onCreate(checked.name);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not create the channel.');
      setBusy(false);
    }
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    }
  };

  return (
    <form id={id} className={styles.newChannel} onSubmit={submit} noValidate>
      <label htmlFor={inputId} className={styles.newChannelLabel}>
        New channel name
      </label>
      <div className={styles.newChannelRow}>
        <input
          id={inputId}
          className="input"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            if (error) setError(null);
          }}
          onKeyDown={onKeyDown}
          maxLength={80}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          placeholder="e.g. design-review"
          aria-invalid={error ? true : undefined}
          aria-describedby={noteId}
          autoFocus
          readOnly={busy}
        />
        <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
          {busy ? 'Creating…' : 'Create'}
        </button>
        <button type="button" className="btn btn-ghost btn-small" onClick={onClose}>
          Cancel
        </button>
      </div>
      {error ? (
        <p id={noteId} className={`field-error small ${styles.note}`} role="alert">
          {error}
        </p>
      ) : (
        <p id={noteId} className={`muted small ${styles.note}`}>
          Lowercase letters, digits, - and _.
        </p>
      )}
    </form>
  );
}

'use client';
/**
 * The project chat: channels with unread badges at the top, the open channel's messages
 * scrolling in the middle, who is typing, and the composer at the bottom (a note instead for
 * viewers). It fills its container's height; the project page decides where it sits.
 */
import { useCallback, useMemo, useRef } from 'react';
import { useSocket } from '@/hooks/useSocket';
import type { ProjectSession } from '@/project/session';
import { useSessionValue } from '@/project/useSession';
import { ChannelBar } from './ChannelBar';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import type { MessageActions } from './MessageItem';
import { typingSentence } from './typing';
import { useChat } from './useChat';
import { useTypingNames } from './useTyping';
import styles from './chat.module.css';

export function ChatPanel({ session }: { session: ProjectSession }) {
  const { socket } = useSocket();
  const members = useSessionValue(session, (s) => s.members);
  const canEdit = useSessionValue(session, (s) => s.canEdit);
  const ready = useSessionValue(session, (s) => s.status.kind === 'ready');
  const chat = useChat(session, socket);
  const { state } = chat;
  const meId = session.me.id;

  const mentionMembers = useMemo(
    () =>
      members.flatMap((m) =>
        m.user ? [{ id: m.userId, name: m.user.name, avatarColor: m.user.avatarColor }] : [],
      ),
    [members],
  );
  const active = state.channels.find((c) => c.id === state.activeId) ?? null;
  const history = active ? state.histories[active.id] : undefined;
  const typingNames = useTypingNames(socket, active?.id ?? null, meId);

  const { edit, remove, retry, discard } = chat;
  const actions = useMemo<MessageActions>(
    () => ({ onEdit: edit, onDelete: remove, onRetry: retry, onDiscard: discard }),
    [edit, remove, retry, discard],
  );

  // Unsent text per channel survives switching channels.
  const drafts = useRef(new Map<string, string>());
  const saveDraft = useCallback(
    (text: string) => {
      if (active) drafts.current.set(active.id, text);
    },
    [active],
  );

  return (
    <section aria-label="Project chat" className={styles.panel}>
      <h2 className="sr-only">Project chat</h2>
      {state.channelsStatus === 'error' && state.channels.length === 0 ? (
        <div className={`alert alert-error ${styles.panelAlert}`} role="alert">
          <p>Could not load the channels. {state.channelsError}</p>
          <button type="button" className="btn btn-small" onClick={chat.reloadChannels}>
            Try again
          </button>
        </div>
      ) : (
        <ChannelBar
          channels={state.channels}
          activeId={state.activeId}
          unread={state.unread}
          canCreate={canEdit}
          onSelect={chat.select}
          onCreate={chat.createChannel}
        />
      )}

      {active && history ? (
        <>
          <MessageList
            key={`list-${active.id}`}
            channelName={active.name}
            history={history}
            meId={meId}
            members={mentionMembers}
            actions={actions}
            onLoadOlder={chat.loadOlder}
            onRetryLoad={chat.reloadHistory}
          />
          <p className={styles.typing} data-testid="typing-indicator" aria-live="polite">
            {typingSentence(typingNames)}
          </p>
          {canEdit ? (
            <Composer
              key={`composer-${active.id}`}
              channelId={active.id}
              channelName={active.name}
              members={mentionMembers}
              meId={meId}
              socket={socket}
              draft={drafts.current.get(active.id) ?? ''}
              onDraftChange={saveDraft}
              onSend={chat.send}
            />
          ) : ready ? (
            <p className={styles.readOnly}>
              You can read this chat, but viewers cannot post messages. Ask a project admin for
              member access to join the conversation.
            </p>
          ) : null}
        </>
      ) : state.channelsStatus === 'loading' ? (
        <div className={styles.panelLoading} aria-busy="true">
          <span className="sr-only">Loading the chat…</span>
          <div className={`skeleton ${styles.skeletonBlock}`} aria-hidden="true" />
        </div>
      ) : null}
    </section>
  );
}

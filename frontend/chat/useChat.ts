'use client';
/**
 * The chat panel's state and its traffic: channels over REST, the open channel joined over the
 * socket (again after every reconnect, merging its latest page), older pages over REST, sends
 * over the socket with a clientId (shown at once, reconciled with the ack and the echo), edits and
 * deletions over REST, and the project's chat events from the session.
 */
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { ChannelDTO, MessageDTO, PublicUserDTO } from '@collabflow/shared';
import { api, ApiError, auth, describeError } from '@/lib/api';
import { emitWithAck } from '@/hooks/useSocket';
import type { AppSocket } from '@/lib/socket';
import type { ProjectSession } from '@/project/session';
import {
  chatReducer,
  initialChatState,
  newClientId,
  pendingMessage,
  type ChatMessage,
  type ChatState,
} from './chat-store';

interface Page {
  messages: MessageDTO[];
  nextCursor: string | null;
}

function fetchPage(channelId: string, before?: string): Promise<Page> {
  const q = before === undefined ? '' : `?before=${encodeURIComponent(before)}`;
  return api<Page>(`/api/channels/${encodeURIComponent(channelId)}/messages${q}`);
}

export interface ChatController {
  state: ChatState;
  select(channelId: string): void;
  reloadChannels(): void;
  reloadHistory(): void;
  loadOlder(): void;
  createChannel(name: string): Promise<ChannelDTO>;
  send(content: string): void;
  retry(message: ChatMessage): void;
  discard(message: ChatMessage): void;
  edit(messageId: string, content: string): Promise<void>;
  remove(messageId: string): Promise<void>;
}

export function useChat(session: ProjectSession, socket: AppSocket | null): ChatController {
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [channelsKey, setChannelsKey] = useState(0);
  const [historyKey, setHistoryKey] = useState(0);
  const stateRef = useRef(state);
  useEffect(() => {
    stateRef.current = state;
  });
  const olderInFlight = useRef(new Set<string>());
  const { projectId } = session;
  const meId = session.me.id;
  const activeId = state.activeId;

  // ---------- channels ----------
  useEffect(() => {
    let live = true;
    const load = () =>
      api<{ channels: ChannelDTO[] }>(`/api/projects/${encodeURIComponent(projectId)}/channels`)
        .then(({ channels }) => live && dispatch({ type: 'channels:loaded', channels }))
        .catch(
          (err: unknown) => live && dispatch({ type: 'channels:error', error: describeError(err) }),
        );
    void load();
    // After a reconnect the list may have changed while events could not arrive.
    socket?.on('connect', load);
    return () => {
      live = false;
      socket?.off('connect', load);
    };
  }, [projectId, socket, channelsKey]);

  // ---------- the project's chat events ----------
  useEffect(
    () =>
      session.onEvent((e) => {
        switch (e.type) {
          case 'channel:created':
            dispatch({ type: 'channel:created', channel: e.data.channel });
            break;
          case 'chat:newMessage':
            dispatch({ type: 'message:new', message: e.data, meId });
            break;
          case 'chat:messageUpdated':
            dispatch({ type: 'message:updated', message: e.data });
            break;
          case 'chat:messageDeleted':
            dispatch({
              type: 'message:deleted',
              channelId: e.data.channelId,
              messageId: e.data.messageId,
            });
            break;
          default:
            break;
        }
      }),
    [session, meId],
  );

  // ---------- the open channel: join (and again on every reconnect) ----------
  useEffect(() => {
    if (!activeId) return;
    let live = true;
    const fail = (err: unknown) => {
      if (live) dispatch({ type: 'history:error', channelId: activeId, error: describeError(err) });
    };
    const join = async () => {
      if (!socket) return;
      try {
        const { messages } = await emitWithAck(socket, 'chat:join', activeId);
        if (live) dispatch({ type: 'history:latest', channelId: activeId, messages });
      } catch (err) {
        fail(err);
      }
    };
    if (socket?.connected) void join();
    else {
      // Not connected yet: show the history from REST; 'connect' joins for live typing.
      fetchPage(activeId)
        .then(({ messages, nextCursor }) => {
          if (live)
            dispatch({ type: 'history:latest', channelId: activeId, messages, cursor: nextCursor });
        })
        .catch(fail);
    }
    socket?.on('connect', join);
    return () => {
      live = false;
      socket?.off('connect', join);
      if (socket?.connected) emitWithAck(socket, 'chat:leave', activeId).catch(() => {});
    };
  }, [activeId, socket, historyKey]);

  // ---------- older pages ----------
  const loadOlder = useCallback(() => {
    const channelId = stateRef.current.activeId;
    const h = channelId ? stateRef.current.histories[channelId] : undefined;
    if (!channelId || !h || h.status !== 'ready' || h.cursor === null) return;
    if (h.loadingOlder || olderInFlight.current.has(channelId)) return;
    olderInFlight.current.add(channelId);
    dispatch({ type: 'history:olderStart', channelId });
    void (async () => {
      try {
        let messages: MessageDTO[] = [];
        let cursor = h.cursor;
        if (cursor === undefined) {
          // The socket's page has no cursor: the REST copy of the latest page names it.
          const latest = await fetchPage(channelId);
          messages = latest.messages;
          cursor = latest.nextCursor;
        }
        if (cursor !== null) {
          const older = await fetchPage(channelId, cursor);
          messages = [...messages, ...older.messages];
          cursor = older.nextCursor;
        }
        dispatch({ type: 'history:older', channelId, messages, cursor });
      } catch (err) {
        dispatch({ type: 'history:olderError', channelId, error: describeError(err) });
      } finally {
        olderInFlight.current.delete(channelId);
      }
    })();
  }, []);

  // ---------- sending ----------
  const deliver = useCallback(
    async (channelId: string, clientId: string, content: string) => {
      try {
        if (!socket) throw new ApiError(0, 'network', 'You are offline');
        const { message } = await emitWithAck(socket, 'chat:message', {
          channelId,
          content,
          clientId,
        });
        dispatch({ type: 'send:confirmed', clientId, message });
      } catch (err) {
        dispatch({ type: 'send:failed', channelId, clientId, error: describeError(err) });
      }
    },
    [socket],
  );

  const send = useCallback(
    (content: string) => {
      const channelId = stateRef.current.activeId;
      if (!channelId) return;
      const clientId = newClientId();
      const user = auth.current?.user;
      const member = session.members.find((m) => m.userId === meId)?.user;
      const sender: PublicUserDTO = {
        id: meId,
        name: user?.name ?? member?.name ?? 'You',
        avatarColor: user?.avatarColor ?? member?.avatarColor ?? '',
      };
      dispatch({
        type: 'send:pending',
        message: pendingMessage({ clientId, channelId, projectId, content, sender }),
      });
      void deliver(channelId, clientId, content);
    },
    [deliver, meId, projectId, session],
  );

  const retry = useCallback(
    (m: ChatMessage) => {
      if (!m.clientId) return;
      dispatch({ type: 'send:retry', channelId: m.channelId, clientId: m.clientId });
      void deliver(m.channelId, m.clientId, m.content);
    },
    [deliver],
  );

  const discard = useCallback((m: ChatMessage) => {
    if (m.clientId)
      dispatch({ type: 'send:discard', channelId: m.channelId, clientId: m.clientId });
  }, []);

  // ---------- edits, deletions, channels ----------
  const edit = useCallback(async (messageId: string, content: string) => {
    try {
      const { message } = await api<{ message: MessageDTO }>(
        `/api/messages/${encodeURIComponent(messageId)}`,
        { method: 'PATCH', body: { content } },
      );
      dispatch({ type: 'message:updated', message });
    } catch (err) {
      throw new Error(describeError(err));
    }
  }, []);

  const remove = useCallback(async (messageId: string) => {
    const channelId = Object.entries(stateRef.current.histories).find(([, h]) =>
      h.messages.some((m) => m.id === messageId),
    )?.[0];
    try {
      await api<void>(`/api/messages/${encodeURIComponent(messageId)}`, { method: 'DELETE' });
      if (channelId) dispatch({ type: 'message:deleted', channelId, messageId });
    } catch (err) {
      throw new Error(describeError(err));
    }
  }, []);

  const createChannel = useCallback(
    async (name: string) => {
      try {
        const { channel } = await api<{ channel: ChannelDTO }>(
          `/api/projects/${encodeURIComponent(projectId)}/channels`,
          { method: 'POST', body: { name } },
        );
        dispatch({ type: 'channel:created', channel });
        dispatch({ type: 'channel:select', channelId: channel.id });
        return channel;
      } catch (err) {
        if (err instanceof ApiError && err.code === 'channel_exists')
          throw new Error(`There is already a channel named #${name}.`);
        if (err instanceof ApiError && err.code === 'validation_failed')
          throw new Error(
            'Use only lowercase letters, digits, - and _, starting with a letter or a digit.',
          );
        throw new Error(describeError(err));
      }
    },
    [projectId],
  );

  const select = useCallback(
    (channelId: string) => dispatch({ type: 'channel:select', channelId }),
    [],
  );
  const reloadChannels = useCallback(() => {
    dispatch({ type: 'channels:loading' });
    setChannelsKey((k) => k + 1);
  }, []);
  const reloadHistory = useCallback(() => {
    const channelId = stateRef.current.activeId;
    if (channelId) dispatch({ type: 'history:loading', channelId });
    setHistoryKey((k) => k + 1);
  }, []);

  return {
    state,
    select,
    reloadChannels,
    reloadHistory,
    loadOlder,
    createChannel,
    send,
    retry,
    discard,
    edit,
    remove,
  };
}

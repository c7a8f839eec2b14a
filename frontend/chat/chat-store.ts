/**
 * The chat panel's state as plain data and one reducer: the project's channels, each visited
 * channel's history (oldest first, this tab's unconfirmed messages at the end), and unread counts.
 * Everything here is pure so the merge, dedupe and unread rules can be unit-tested; useChat wires
 * it to REST, the socket and the project session.
 */
import {
  createChannelBody,
  LIMITS,
  type ChannelDTO,
  type MessageDTO,
  type PublicUserDTO,
} from '@collabflow/shared';

/** The size of the page `chat:join` answers with (the server's default page). */
export const PAGE_SIZE = LIMITS.pageSizeDefault;

export type LocalState = { status: 'sending' } | { status: 'failed'; error: string };

/** A message as the panel shows it; `local` is set while this tab's message is unconfirmed. */
export interface ChatMessage extends MessageDTO {
  local?: LocalState;
}

export interface ChannelHistory {
  /** Oldest first by seq; unconfirmed messages of this tab at the end, in the order sent. */
  messages: ChatMessage[];
  /** `before` for the next older page; null at the start of the channel; undefined: not known yet. */
  cursor: string | null | undefined;
  status: 'loading' | 'ready' | 'error';
  error?: string;
  loadingOlder: boolean;
  olderError?: string;
}

export interface ChatState {
  channels: ChannelDTO[];
  channelsStatus: 'loading' | 'ready' | 'error';
  channelsError?: string;
  activeId: string | null;
  histories: Record<string, ChannelHistory>;
  unread: Record<string, number>;
}

export const initialChatState: ChatState = {
  channels: [],
  channelsStatus: 'loading',
  activeId: null,
  histories: {},
  unread: {},
};

// ---------- channels ----------

/** `general` first, then in creation order. */
export function sortChannels(channels: ChannelDTO[]): ChannelDTO[] {
  return [...channels].sort((a, b) => {
    if (a.name === 'general' || b.name === 'general') return a.name === 'general' ? -1 : 1;
    return a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name);
  });
}

export function upsertChannels(list: ChannelDTO[], incoming: ChannelDTO[]): ChannelDTO[] {
  const byId = new Map(list.map((c) => [c.id, c]));
  for (const c of incoming) byId.set(c.id, c);
  return sortChannels([...byId.values()]);
}

/**
 * Checks a new channel's name with the shared schema (which also lowercases it); the answer is
 * the name to send or a sentence saying what to change.
 */
export function validateChannelName(
  raw: string,
  existing: ChannelDTO[],
): { ok: true; name: string } | { ok: false; error: string } {
  const parsed = createChannelBody.safeParse({ name: raw });
  if (!parsed.success) {
    const trimmed = raw.trim();
    if (!trimmed) return { ok: false, error: 'Enter a name for the channel.' };
    if (trimmed.length > 80)
      return { ok: false, error: 'Channel names can be at most 80 characters long.' };
    return {
      ok: false,
      error: 'Use only lowercase letters, digits, - and _, starting with a letter or a digit.',
    };
  }
  const { name } = parsed.data;
  if (existing.some((c) => c.name === name))
    return { ok: false, error: `There is already a channel named #${name}.` };
  return { ok: true, name };
}

// ---------- messages ----------

/** Keeps the message fields only (event payloads also carry `at`, `actor` and the event seq). */
export function toChatMessage(m: MessageDTO): ChatMessage {
  const msg: ChatMessage = {
    id: m.id,
    channelId: m.channelId,
    projectId: m.projectId,
    content: m.deleted ? '' : m.content,
    sender: m.sender,
    edited: m.edited,
    deleted: m.deleted,
    seq: m.seq,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
  if (m.clientId) msg.clientId = m.clientId;
  return msg;
}

/** Of two copies of one message: a deletion is final, otherwise the later update wins. */
function newer(old: ChatMessage, inc: ChatMessage): ChatMessage {
  if (old.deleted && !inc.deleted) return old;
  if (inc.deleted && !old.deleted) return { ...old, deleted: true, content: '' };
  return inc.updatedAt >= old.updatedAt ? { ...inc, seq: old.seq } : old;
}

/**
 * Adds confirmed messages to a list (any order in, dedupe by id): a message carrying the clientId
 * of one of this tab's unconfirmed messages replaces it.
 */
export function mergeMessages(list: ChatMessage[], incoming: MessageDTO[]): ChatMessage[] {
  const byId = new Map<string, ChatMessage>();
  let locals: ChatMessage[] = [];
  for (const m of list) {
    if (m.local) locals.push(m);
    else byId.set(m.id, m);
  }
  for (const raw of incoming) {
    const msg = toChatMessage(raw);
    if (msg.clientId) locals = locals.filter((l) => l.clientId !== msg.clientId);
    const old = byId.get(msg.id);
    byId.set(msg.id, old ? newer(old, msg) : msg);
  }
  const confirmed = [...byId.values()].sort((a, b) => a.seq - b.seq);
  return [...confirmed, ...locals];
}

/** An edit from an event: changes a loaded message in place (its position and seq stay). */
export function applyUpdate(list: ChatMessage[], update: MessageDTO): ChatMessage[] {
  const i = list.findIndex((m) => m.id === update.id && !m.local);
  if (i < 0) return list;
  const old = list[i]!;
  if (old.deleted || update.updatedAt < old.updatedAt) return list;
  const next = [...list];
  next[i] = {
    ...old,
    content: update.deleted ? '' : update.content,
    edited: update.edited,
    deleted: update.deleted,
    updatedAt: update.updatedAt,
  };
  return next;
}

export function applyDelete(list: ChatMessage[], messageId: string): ChatMessage[] {
  const i = list.findIndex((m) => m.id === messageId && !m.local);
  if (i < 0 || list[i]!.deleted) return list;
  const next = [...list];
  next[i] = { ...list[i]!, deleted: true, content: '' };
  return next;
}

/** The id an unconfirmed message has until the server names it. */
export const localId = (clientId: string): string => `local-${clientId}`;

export function pendingMessage(input: {
  clientId: string;
  channelId: string;
  projectId: string;
  content: string;
  sender: PublicUserDTO;
  now?: Date;
}): ChatMessage {
  const at = (input.now ?? new Date()).toISOString();
  return {
    id: localId(input.clientId),
    clientId: input.clientId,
    channelId: input.channelId,
    projectId: input.projectId,
    content: input.content,
    sender: input.sender,
    edited: false,
    deleted: false,
    seq: Number.MAX_SAFE_INTEGER,
    createdAt: at,
    updatedAt: at,
    local: { status: 'sending' },
  };
}

function setLocal(list: ChatMessage[], clientId: string, local: LocalState | null): ChatMessage[] {
  return list.flatMap((m) => {
    if (!m.local || m.clientId !== clientId) return [m];
    return local ? [{ ...m, local }] : [];
  });
}

/**
 * The latest page (newest first, from `chat:join` or REST) merged into what the panel has. When a
 * full page does not reach back to the newest message already shown, something was missed in
 * between: the page replaces the history instead of leaving a hole.
 */
export function mergeLatest(
  history: ChannelHistory | undefined,
  newestFirst: MessageDTO[],
  cursor?: string | null,
): ChannelHistory {
  const known = cursor !== undefined ? cursor : newestFirst.length >= PAGE_SIZE ? undefined : null;
  const messages = history?.messages ?? [];
  const confirmed = messages.filter((m) => !m.local);
  const newestShown = confirmed.at(-1)?.seq;
  const oldestInPage = newestFirst.at(-1)?.seq;
  const gap =
    newestShown !== undefined &&
    oldestInPage !== undefined &&
    newestFirst.length >= PAGE_SIZE &&
    oldestInPage > newestShown;
  const fresh = confirmed.length === 0 || gap;
  return {
    messages: mergeMessages(fresh ? messages.filter((m) => m.local) : messages, newestFirst),
    cursor: fresh || history?.cursor === undefined ? known : history.cursor,
    status: 'ready',
    loadingOlder: history?.loadingOlder ?? false,
    olderError: history?.olderError,
  };
}

// ---------- unread ----------

/** One more unread message in a channel, unless it is open or the message is one's own. */
export function countUnread(
  unread: Record<string, number>,
  message: Pick<MessageDTO, 'channelId' | 'sender'>,
  activeId: string | null,
  meId: string,
): Record<string, number> {
  if (message.channelId === activeId || message.sender.id === meId) return unread;
  return { ...unread, [message.channelId]: (unread[message.channelId] ?? 0) + 1 };
}

export function unreadLabel(count: number): string {
  return count > 0 ? `${count} unread` : '';
}

// ---------- the reducer ----------

export type ChatAction =
  | { type: 'channels:loaded'; channels: ChannelDTO[] }
  | { type: 'channels:loading' }
  | { type: 'channels:error'; error: string }
  | { type: 'channel:created'; channel: ChannelDTO }
  | { type: 'channel:select'; channelId: string }
  | { type: 'history:latest'; channelId: string; messages: MessageDTO[]; cursor?: string | null }
  | { type: 'history:loading'; channelId: string }
  | { type: 'history:error'; channelId: string; error: string }
  | { type: 'history:olderStart'; channelId: string }
  | { type: 'history:older'; channelId: string; messages: MessageDTO[]; cursor: string | null }
  | { type: 'history:olderError'; channelId: string; error: string }
  | { type: 'message:new'; message: MessageDTO; meId: string }
  | { type: 'message:updated'; message: MessageDTO }
  | { type: 'message:deleted'; channelId: string; messageId: string }
  | { type: 'send:pending'; message: ChatMessage }
  | { type: 'send:confirmed'; clientId: string; message: MessageDTO }
  | { type: 'send:failed'; channelId: string; clientId: string; error: string }
  | { type: 'send:retry'; channelId: string; clientId: string }
  | { type: 'send:discard'; channelId: string; clientId: string };

const emptyHistory = (): ChannelHistory => ({
  messages: [],
  cursor: undefined,
  status: 'loading',
  loadingOlder: false,
});

function withHistory(
  state: ChatState,
  channelId: string,
  change: (h: ChannelHistory) => ChannelHistory,
  create = false,
): ChatState {
  const h = state.histories[channelId];
  if (!h && !create) return state;
  const next = change(h ?? emptyHistory());
  return next === h ? state : { ...state, histories: { ...state.histories, [channelId]: next } };
}

function select(state: ChatState, channelId: string): ChatState {
  const { [channelId]: _read, ...unread } = state.unread;
  const next = { ...state, activeId: channelId, unread };
  return state.histories[channelId]
    ? next
    : { ...next, histories: { ...state.histories, [channelId]: emptyHistory() } };
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'channels:loaded': {
      const channels = upsertChannels(state.channels, action.channels);
      const next: ChatState = { ...state, channels, channelsStatus: 'ready' };
      delete next.channelsError;
      if (state.activeId && channels.some((c) => c.id === state.activeId)) return next;
      const first = channels.find((c) => c.name === 'general') ?? channels[0];
      return first ? select(next, first.id) : next;
    }
    case 'channels:loading':
      return state.channelsStatus === 'error' ? { ...state, channelsStatus: 'loading' } : state;
    case 'channels:error':
      return state.channelsStatus === 'ready'
        ? state
        : { ...state, channelsStatus: 'error', channelsError: action.error };
    case 'channel:created':
      return { ...state, channels: upsertChannels(state.channels, [action.channel]) };
    case 'channel:select':
      return select(state, action.channelId);
    case 'history:latest': {
      const h = mergeLatest(state.histories[action.channelId], action.messages, action.cursor);
      return { ...state, histories: { ...state.histories, [action.channelId]: h } };
    }
    case 'history:loading':
      return withHistory(state, action.channelId, (h) =>
        h.status === 'error' ? { ...h, status: 'loading', error: undefined } : h,
      );
    case 'history:error':
      return withHistory(state, action.channelId, (h) =>
        h.status === 'ready' ? h : { ...h, status: 'error', error: action.error },
      );
    case 'history:olderStart':
      return withHistory(state, action.channelId, (h) => ({
        ...h,
        loadingOlder: true,
        olderError: undefined,
      }));
    case 'history:older':
      return withHistory(state, action.channelId, (h) => ({
        ...h,
        messages: mergeMessages(h.messages, action.messages),
        cursor: action.cursor,
        loadingOlder: false,
      }));
    case 'history:olderError':
      return withHistory(state, action.channelId, (h) => ({
        ...h,
        loadingOlder: false,
        olderError: action.error,
      }));
    case 'message:new': {
      const { message, meId } = action;
      const next = withHistory(state, message.channelId, (h) => ({
        ...h,
        messages: mergeMessages(h.messages, [message]),
      }));
      const unread = countUnread(state.unread, message, state.activeId, meId);
      return unread === state.unread ? next : { ...next, unread };
    }
    case 'message:updated':
      return withHistory(state, action.message.channelId, (h) => {
        const messages = applyUpdate(h.messages, action.message);
        return messages === h.messages ? h : { ...h, messages };
      });
    case 'message:deleted':
      return withHistory(state, action.channelId, (h) => {
        const messages = applyDelete(h.messages, action.messageId);
        return messages === h.messages ? h : { ...h, messages };
      });
    case 'send:pending':
      return withHistory(
        state,
        action.message.channelId,
        (h) => ({ ...h, messages: [...h.messages, action.message] }),
        true,
      );
    case 'send:confirmed':
      return withHistory(state, action.message.channelId, (h) => ({
        ...h,
        messages: mergeMessages(setLocal(h.messages, action.clientId, null), [action.message]),
      }));
    case 'send:failed':
      return withHistory(state, action.channelId, (h) => ({
        ...h,
        messages: setLocal(h.messages, action.clientId, { status: 'failed', error: action.error }),
      }));
    case 'send:retry':
      return withHistory(state, action.channelId, (h) => ({
        ...h,
        messages: setLocal(h.messages, action.clientId, { status: 'sending' }),
      }));
    case 'send:discard':
      return withHistory(state, action.channelId, (h) => ({
        ...h,
        messages: setLocal(h.messages, action.clientId, null),
      }));
    default:
      return state;
  }
}

/** A mutation id for a message; crypto.randomUUID needs a secure context, so there is a fallback. */
export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch {
      // not a secure context: fall through
    }
  }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

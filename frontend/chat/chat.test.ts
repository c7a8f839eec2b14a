import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelDTO, MessageDTO } from '@collabflow/shared';
import {
  applyDelete,
  applyUpdate,
  chatReducer,
  countUnread,
  initialChatState,
  localId,
  mergeLatest,
  mergeMessages,
  PAGE_SIZE,
  pendingMessage,
  sortChannels,
  validateChannelName,
  type ChatState,
} from './chat-store';
import {
  findMentionQuery,
  insertMention,
  mentionSegments,
  mentionsUser,
  suggestMembers,
} from './mentions';
import {
  applyTypingEvent,
  pruneTyping,
  TYPING_EXPIRE_MS,
  typingNames,
  typingSentence,
  TypingSignal,
} from './typing';

const alice = { id: 'u-alice', name: 'Alice Martin', avatarColor: '#335577' };
const bob = { id: 'u-bob', name: 'Bob', avatarColor: '#553377' };

function msg(seq: number, over: Partial<MessageDTO> = {}): MessageDTO {
  return {
    id: `m${seq}`,
    channelId: 'c1',
    projectId: 'p1',
    content: `message ${seq}`,
    sender: bob,
    edited: false,
    deleted: false,
    seq,
    createdAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    updatedAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    ...over,
  };
}

function channel(id: string, name: string, at = '2024-01-01T00:00:00.000Z'): ChannelDTO {
  return { id, projectId: 'p1', name, createdAt: at };
}

const newestFirst = (from: number, to: number) => {
  const out: MessageDTO[] = [];
  for (let s = to; s >= from; s--) out.push(msg(s));
  return out;
};

describe('message list merge', () => {
  it('orders by seq, oldest first, and dedupes by id', () => {
    const list = mergeMessages([], [msg(3), msg(1), msg(2)]);
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3]);
    const again = mergeMessages(list, [msg(2), msg(4)]);
    expect(again.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('strips event envelope fields', () => {
    const withEnvelope = { ...msg(1), at: 'x', actor: 'y' } as MessageDTO;
    const [m] = mergeMessages([], [withEnvelope]);
    expect(m).not.toHaveProperty('at');
    expect(m).not.toHaveProperty('actor');
  });

  it('replaces a pending message by its confirmation (same clientId), keeping pending last', () => {
    const pending = pendingMessage({
      clientId: 'c-1',
      channelId: 'c1',
      projectId: 'p1',
      content: 'hi',
      sender: alice,
    });
    let list = mergeMessages([], [msg(1)]);
    list = [...list, pending];
    list = mergeMessages(list, [msg(2)]);
    expect(list.map((m) => m.id)).toEqual(['m1', 'm2', localId('c-1')]);
    list = mergeMessages(list, [msg(3, { clientId: 'c-1', content: 'hi', sender: alice })]);
    expect(list.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(list.some((m) => m.local)).toBe(false);
  });

  it('a deletion is final and the later edit wins', () => {
    const later = new Date(1_800_000_000_000).toISOString();
    let list = mergeMessages([], [msg(1)]);
    list = applyUpdate(
      list,
      msg(1, { content: 'edited', edited: true, updatedAt: later, seq: 99 }),
    );
    expect(list[0]).toMatchObject({ content: 'edited', edited: true, seq: 1 });
    // A stale copy (older updatedAt) from a page does not undo the edit.
    list = mergeMessages(list, [msg(1)]);
    expect(list[0]!.content).toBe('edited');
    list = applyDelete(list, 'm1');
    expect(list[0]).toMatchObject({ deleted: true, content: '' });
    list = mergeMessages(list, [msg(1, { updatedAt: new Date(1_900_000_000_000).toISOString() })]);
    expect(list[0]!.deleted).toBe(true);
  });

  it('ignores updates and deletions of messages not loaded', () => {
    const list = mergeMessages([], [msg(1)]);
    expect(applyUpdate(list, msg(5))).toBe(list);
    expect(applyDelete(list, 'm5')).toBe(list);
  });
});

describe('latest page', () => {
  it('a short first page means the start of the channel', () => {
    const h = mergeLatest(undefined, newestFirst(1, 3));
    expect(h.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(h.cursor).toBeNull();
    expect(h.status).toBe('ready');
  });

  it('a full page from the socket leaves the cursor unknown; REST gives it', () => {
    expect(mergeLatest(undefined, newestFirst(1, PAGE_SIZE)).cursor).toBeUndefined();
    expect(mergeLatest(undefined, newestFirst(1, PAGE_SIZE), 'abc').cursor).toBe('abc');
  });

  it('merges an overlapping page after a reconnect without duplicates, keeping the cursor', () => {
    let h = mergeLatest(undefined, newestFirst(41, 90), '41');
    h = mergeLatest(h, newestFirst(61, 110));
    expect(h.messages).toHaveLength(70);
    expect(new Set(h.messages.map((m) => m.id)).size).toBe(70);
    expect(h.cursor).toBe('41');
  });

  it('replaces the history when a full page does not reach what is shown (a gap)', () => {
    let h = mergeLatest(undefined, newestFirst(1, 10));
    h = mergeLatest(h, newestFirst(200, 200 + PAGE_SIZE - 1));
    expect(h.messages[0]!.seq).toBe(200);
    expect(h.messages).toHaveLength(PAGE_SIZE);
    expect(h.cursor).toBeUndefined();
  });
});

describe('chat reducer', () => {
  const loaded = (): ChatState =>
    chatReducer(initialChatState, {
      type: 'channels:loaded',
      channels: [channel('c2', 'random', '2024-02-01T00:00:00.000Z'), channel('c1', 'general')],
    });

  it('selects general first and sorts it first', () => {
    const s = loaded();
    expect(s.activeId).toBe('c1');
    expect(s.channels.map((c) => c.name)).toEqual(['general', 'random']);
    expect(s.histories.c1?.status).toBe('loading');
  });

  it('counts unread messages from others in channels not open, and resets on opening', () => {
    let s = loaded();
    const other = (seq: number) => msg(seq, { channelId: 'c2' });
    s = chatReducer(s, { type: 'message:new', message: other(1), meId: alice.id });
    s = chatReducer(s, { type: 'message:new', message: other(2), meId: alice.id });
    s = chatReducer(s, {
      type: 'message:new',
      message: msg(3, { channelId: 'c2', sender: alice }),
      meId: alice.id,
    });
    s = chatReducer(s, { type: 'message:new', message: msg(4), meId: alice.id });
    expect(s.unread).toEqual({ c2: 2 });
    s = chatReducer(s, { type: 'channel:select', channelId: 'c2' });
    expect(s.unread).toEqual({});
    expect(s.activeId).toBe('c2');
  });

  it('countUnread leaves the map alone for the open channel and own messages', () => {
    const u = { c2: 1 };
    expect(countUnread(u, { channelId: 'c1', sender: bob }, 'c1', alice.id)).toBe(u);
    expect(countUnread(u, { channelId: 'c2', sender: alice }, 'c1', alice.id)).toBe(u);
    expect(countUnread(u, { channelId: 'c2', sender: bob }, 'c1', alice.id)).toEqual({ c2: 2 });
  });

  it('reconciles a send with the echo and the ack in either order', () => {
    for (const order of [
      ['echo', 'ack'],
      ['ack', 'echo'],
    ] as const) {
      let s = loaded();
      s = chatReducer(s, { type: 'history:latest', channelId: 'c1', messages: [msg(1)] });
      const pending = pendingMessage({
        clientId: 'k',
        channelId: 'c1',
        projectId: 'p1',
        content: 'hello',
        sender: alice,
      });
      s = chatReducer(s, { type: 'send:pending', message: pending });
      expect(s.histories.c1!.messages.at(-1)!.local).toEqual({ status: 'sending' });
      const confirmed = msg(2, { clientId: 'k', content: 'hello', sender: alice });
      for (const step of order) {
        s =
          step === 'echo'
            ? chatReducer(s, { type: 'message:new', message: confirmed, meId: alice.id })
            : chatReducer(s, { type: 'send:confirmed', clientId: 'k', message: confirmed });
      }
      expect(s.histories.c1!.messages.map((m) => m.id)).toEqual(['m1', 'm2']);
    }
  });

  it('keeps a failed message with its reason, retries and discards it', () => {
    let s = loaded();
    const pending = pendingMessage({
      clientId: 'k',
      channelId: 'c1',
      projectId: 'p1',
      content: 'hello',
      sender: alice,
    });
    s = chatReducer(s, { type: 'send:pending', message: pending });
    s = chatReducer(s, { type: 'send:failed', channelId: 'c1', clientId: 'k', error: 'offline' });
    expect(s.histories.c1!.messages[0]).toMatchObject({
      content: 'hello',
      local: { status: 'failed', error: 'offline' },
    });
    s = chatReducer(s, { type: 'send:retry', channelId: 'c1', clientId: 'k' });
    expect(s.histories.c1!.messages[0]!.local).toEqual({ status: 'sending' });
    s = chatReducer(s, { type: 'send:discard', channelId: 'c1', clientId: 'k' });
    expect(s.histories.c1!.messages).toHaveLength(0);
  });

  it('adds channels created by others once', () => {
    let s = loaded();
    const design = channel('c3', 'design', '2024-03-01T00:00:00.000Z');
    s = chatReducer(s, { type: 'channel:created', channel: design });
    s = chatReducer(s, { type: 'channel:created', channel: design });
    expect(s.channels.map((c) => c.name)).toEqual(['general', 'random', 'design']);
  });

  it('prepends older pages', () => {
    let s = loaded();
    s = chatReducer(s, { type: 'history:latest', channelId: 'c1', messages: newestFirst(51, 100) });
    s = chatReducer(s, { type: 'history:olderStart', channelId: 'c1' });
    expect(s.histories.c1!.loadingOlder).toBe(true);
    s = chatReducer(s, {
      type: 'history:older',
      channelId: 'c1',
      messages: newestFirst(1, 50),
      cursor: null,
    });
    const h = s.histories.c1!;
    expect(h.messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(h.cursor).toBeNull();
    expect(h.loadingOlder).toBe(false);
  });
});

describe('channel names', () => {
  const existing = [channel('c1', 'general')];
  it('accepts and lowercases valid names', () => {
    expect(validateChannelName('  Design-Review_2 ', existing)).toEqual({
      ok: true,
      name: 'design-review_2',
    });
  });
  it('explains what is wrong in plain words', () => {
    expect(validateChannelName('', existing)).toMatchObject({ ok: false });
    expect(validateChannelName('has space', existing)).toEqual({
      ok: false,
      error: 'Use only lowercase letters, digits, - and _, starting with a letter or a digit.',
    });
    expect(validateChannelName('-dash', existing).ok).toBe(false);
    expect(validateChannelName('x'.repeat(81), existing)).toMatchObject({ ok: false });
    expect(validateChannelName('General', existing)).toEqual({
      ok: false,
      error: 'There is already a channel named #general.',
    });
  });
  it('sorts general first', () => {
    const sorted = sortChannels([
      channel('b', 'b', '2024-01-02T00:00:00.000Z'),
      channel('g', 'general', '2024-01-03T00:00:00.000Z'),
      channel('a', 'a', '2024-01-01T00:00:00.000Z'),
    ]);
    expect(sorted.map((c) => c.name)).toEqual(['general', 'a', 'b']);
  });
});

describe('mentions', () => {
  const members = [
    { id: 'u-al', name: 'Al' },
    { id: alice.id, name: 'Alice Martin' },
    { id: bob.id, name: 'Bob' },
    { id: 'u-carol', name: 'Carol' },
  ];

  it('splits a message into text and mentions, longest name first', () => {
    expect(mentionSegments('hi @Alice Martin, see @bob!', members, bob.id)).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Alice Martin', userId: alice.id, me: false },
      { kind: 'text', text: ', see ' },
      { kind: 'mention', text: '@bob', userId: bob.id, me: true },
      { kind: 'text', text: '!' },
    ]);
  });

  it('needs word boundaries on both sides', () => {
    expect(mentionSegments('mail bob@Carol.org', members, bob.id)).toEqual([
      { kind: 'text', text: 'mail bob@Carol.org' },
    ]);
    expect(mentionSegments('@Bobby', members, bob.id)).toEqual([{ kind: 'text', text: '@Bobby' }]);
    expect(mentionSegments('@Al and @Alice', members, bob.id).map((s) => s.kind)).toEqual([
      'mention',
      'text',
    ]);
  });

  it('knows whether a message mentions a user', () => {
    expect(mentionsUser('ping @carol\nplease', members, 'u-carol')).toBe(true);
    expect(mentionsUser('ping carol', members, 'u-carol')).toBe(false);
    expect(mentionSegments('', members, 'x')).toEqual([]);
  });

  it('finds the mention being typed at the caret', () => {
    expect(findMentionQuery('hello @al', 9)).toEqual({ start: 6, end: 9, query: 'al' });
    expect(findMentionQuery('@', 1)).toEqual({ start: 0, end: 1, query: '' });
    expect(findMentionQuery('@Alice Ma', 9)?.query).toBe('Alice Ma');
    expect(findMentionQuery('mail a@b', 8)).toBeNull();
    expect(findMentionQuery('@ al', 4)).toBeNull();
    expect(findMentionQuery('@al\nx', 5)).toBeNull();
    expect(findMentionQuery('@al', 0)).toBeNull();
  });

  it('suggests members by name prefix or word prefix, without oneself', () => {
    expect(suggestMembers(members, 'al', 'u-carol').map((m) => m.name)).toEqual([
      'Al',
      'Alice Martin',
    ]);
    expect(suggestMembers(members, 'mar', 'u-carol').map((m) => m.name)).toEqual(['Alice Martin']);
    expect(suggestMembers(members, 'alice m', 'x').map((m) => m.name)).toEqual(['Alice Martin']);
    expect(suggestMembers(members, 'alice martin ', 'x')).toEqual([]);
    expect(suggestMembers(members, '', bob.id)).toHaveLength(3);
  });

  it('inserts @Name and a space, placing the caret after it', () => {
    expect(insertMention('hi @al', { start: 3, end: 6 }, 'Alice Martin')).toEqual({
      text: 'hi @Alice Martin ',
      caret: 17,
    });
    expect(insertMention('@b there', { start: 0, end: 2 }, 'Bob')).toEqual({
      text: '@Bob there',
      caret: 5,
    });
  });
});

describe('typing', () => {
  const ev = (userId: string, name: string, isTyping = true, channelId = 'c1') => ({
    channelId,
    userId,
    user: { name },
    isTyping,
  });

  it('builds the sentence', () => {
    expect(typingSentence([])).toBe('');
    expect(typingSentence(['Bob'])).toBe('Bob is typing…');
    expect(typingSentence(['Bob', 'Carol'])).toBe('Bob and Carol are typing…');
    expect(typingSentence(['Bob', 'Carol', 'Dan'])).toBe('Bob, Carol and Dan are typing…');
    expect(typingSentence(['Bob', 'Carol', 'Dan', 'Eve'])).toBe(
      'Bob, Carol and 2 others are typing…',
    );
  });

  it('tracks others per channel, ignores oneself, expires after 6 s', () => {
    let e = applyTypingEvent([], ev('u1', 'Bob'), 'me', 0);
    e = applyTypingEvent(e, ev('me', 'Me'), 'me', 0);
    e = applyTypingEvent(e, ev('u2', 'Carol', true, 'c2'), 'me', 1000);
    expect(typingNames(e, 'c1', 1000)).toEqual(['Bob']);
    expect(typingNames(e, 'c2', 1000)).toEqual(['Carol']);
    e = applyTypingEvent(e, ev('u1', 'Bob'), 'me', 4000);
    expect(typingNames(pruneTyping(e, TYPING_EXPIRE_MS + 1), 'c1', TYPING_EXPIRE_MS + 1)).toEqual([
      'Bob',
    ]);
    expect(pruneTyping(e, 4000 + TYPING_EXPIRE_MS)).toHaveLength(0);
    expect(applyTypingEvent(e, ev('u1', 'Bob', false), 'me', 5000).map((x) => x.userId)).toEqual([
      'u2',
    ]);
  });

  describe('outgoing signal', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('sends true at most every 2 s and false after 3 s idle', () => {
      const sent: boolean[] = [];
      const s = new TypingSignal(
        (t) => sent.push(t),
        () => Date.now(),
      );
      s.input();
      vi.advanceTimersByTime(500);
      s.input();
      vi.advanceTimersByTime(1000);
      s.input();
      expect(sent).toEqual([true]);
      vi.advanceTimersByTime(600);
      s.input();
      expect(sent).toEqual([true, true]);
      vi.advanceTimersByTime(2999);
      expect(sent).toEqual([true, true]);
      vi.advanceTimersByTime(1);
      expect(sent).toEqual([true, true, false]);
    });

    it('stop sends false once, only after typing', () => {
      const sent: boolean[] = [];
      const s = new TypingSignal((t) => sent.push(t));
      s.stop();
      expect(sent).toEqual([]);
      s.input();
      s.stop();
      s.stop();
      vi.advanceTimersByTime(5000);
      expect(sent).toEqual([true, false]);
    });
  });
});

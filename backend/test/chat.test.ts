import { LIMITS } from '@collabflow/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';

type User = Awaited<ReturnType<typeof registerUser>>;
interface Message {
  id: string;
  channelId: string;
  projectId: string;
  content: string;
  sender: { id: string; name: string; avatarColor: string };
  edited: boolean;
  deleted: boolean;
  seq: number;
  createdAt: string;
}

describe('chat', () => {
  let t: TestApi;
  let api: ReturnType<typeof client>;
  let alice: User;
  let bob: User;
  let projectId: string;
  let general: string;

  const post = (channelId: string, content: unknown, token = alice.token) =>
    api.post(`/api/channels/${channelId}/messages`, { content }, token);

  beforeAll(async () => {
    t = await startApi();
    api = client(t.url);
    [alice, bob] = await Promise.all([registerUser(api, 'Alice'), registerUser(api, 'Bob')]);
    const p = await api.post('/api/projects', { name: 'Chatty' }, alice.token);
    projectId = p.body.project.id;
    await api.post(
      `/api/projects/${projectId}/members`,
      { email: bob.user.email, role: 'member' },
      alice.token,
    );
    const ch = await api.get(`/api/projects/${projectId}/channels`, alice.token);
    general = ch.body.channels[0].id;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('channels', () => {
    it('every project has general; members create more; names are unique and validated', async () => {
      const list = await api.get(`/api/projects/${projectId}/channels`, bob.token);
      expect(list.status).toBe(200);
      expect(list.body.channels).toEqual([
        {
          id: general,
          projectId,
          name: 'general',
          createdAt: expect.any(String),
        },
      ]);
      const created = await api.post(
        `/api/projects/${projectId}/channels`,
        { name: '  Design-Team_2 ' },
        bob.token,
      );
      expect(created.status).toBe(201);
      expect(created.body.channel).toMatchObject({ projectId, name: 'design-team_2' });

      const dup = await api.post(
        `/api/projects/${projectId}/channels`,
        { name: 'GENERAL' },
        bob.token,
      );
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('channel_exists');

      for (const body of [
        {},
        { name: '' },
        { name: 'has space' },
        { name: '-leading' },
        { name: 'x'.repeat(81) },
        { name: { $gt: '' } },
        { name: 'ok', topic: 'x' },
      ]) {
        const r = await api.post(`/api/projects/${projectId}/channels`, body, bob.token);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.code).toBe('validation_failed');
      }
      const after = await api.get(`/api/projects/${projectId}/channels`, bob.token);
      expect(after.body.channels.map((c: { name: string }) => c.name)).toEqual([
        'general',
        'design-team_2',
      ]);
    });
  });

  describe('messages', () => {
    it('posts a message with its sender (no email) and keeps channels apart', async () => {
      const other = await api.post(
        `/api/projects/${projectId}/channels`,
        { name: 'other' },
        alice.token,
      );
      const r = await post(general, '  hello there  ', bob.token);
      expect(r.status).toBe(201);
      const m = r.body.message as Message;
      expect(m).toMatchObject({
        channelId: general,
        projectId,
        content: 'hello there',
        edited: false,
        deleted: false,
        sender: { id: bob.user.id, name: 'Bob' },
      });
      expect(m.sender).not.toHaveProperty('email');
      const inOther = await api.get(`/api/channels/${other.body.channel.id}/messages`, alice.token);
      expect(inOther.body).toEqual({ messages: [], nextCursor: null });
      const inGeneral = await api.get(`/api/channels/${general}/messages`, alice.token);
      expect(inGeneral.body.messages[0]).toEqual(m);
    });

    it('content: 4000 characters are fine; empty, 4001 characters, non-strings and extra keys are 400', async () => {
      const ok = await post(general, 'x'.repeat(LIMITS.messageMax));
      expect(ok.status).toBe(201);
      expect(ok.body.message.content).toHaveLength(LIMITS.messageMax);
      for (const content of ['', '   ', 'x'.repeat(LIMITS.messageMax + 1), 42, { $gt: '' }, null]) {
        const r = await post(general, content);
        expect(r.status, JSON.stringify(content).slice(0, 20)).toBe(400);
        expect(r.body.error.code).toBe('validation_failed');
      }
      const extra = await api.post(
        `/api/channels/${general}/messages`,
        { content: 'hi', senderId: bob.user.id },
        alice.token,
      );
      expect(extra.status).toBe(400);
    });

    it('edits and soft-deletes own messages; a deleted message stays in history, emptied', async () => {
      const m = (await post(general, 'original', bob.token)).body.message as Message;
      const edited = await api.patch(`/api/messages/${m.id}`, { content: 'changed' }, bob.token);
      expect(edited.status).toBe(200);
      expect(edited.body.message).toMatchObject({ id: m.id, content: 'changed', edited: true });
      const notMine = await api.del(`/api/messages/${m.id}`, alice.token);
      expect(notMine.status).toBe(403);
      const del = await api.del(`/api/messages/${m.id}`, bob.token);
      expect(del.status).toBe(204);
      const page = await api.get(`/api/channels/${general}/messages?limit=5`, bob.token);
      const inHistory = page.body.messages.find((x: Message) => x.id === m.id);
      expect(inHistory).toMatchObject({ deleted: true, content: '' });
      expect(
        (await api.patch(`/api/messages/${m.id}`, { content: 'back' }, bob.token)).status,
      ).toBe(404);
      expect((await api.del(`/api/messages/${m.id}`, bob.token)).status).toBe(404);
      const bad = await api.patch(`/api/messages/${'a'.repeat(24)}`, { content: 'x' }, bob.token);
      expect(bad.status).toBe(404);
    });

    it('rejects bad page queries with 400', async () => {
      for (const q of [
        '?limit=0',
        `?limit=${LIMITS.pageSizeMax + 1}`,
        '?limit=abc',
        '?limit=1.5',
        '?before=not-a-cursor',
        '?before[$gt]=',
        '?limit=5&limit=6',
        '?after=x',
      ]) {
        const r = await api.get(`/api/channels/${general}/messages${q}`, alice.token);
        expect(r.status, q).toBe(400);
        expect(r.body.error.code, q).toBe('validation_failed');
      }
    });
  });

  describe('pagination', () => {
    it('120 messages, pages of 50 via nextCursor: each seen once, newest first, no overlap', async () => {
      const ch = await api.post(
        `/api/projects/${projectId}/channels`,
        { name: 'paging' },
        alice.token,
      );
      const channelId = ch.body.channel.id as string;
      const posted: string[] = [];
      for (let i = 0; i < 120; i++) {
        const r = await post(channelId, `m${i}`, i % 3 === 0 ? bob.token : alice.token);
        expect(r.status).toBe(201);
        posted.push(r.body.message.id);
      }
      const seen: Message[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `?limit=50&before=${cursor}` : '?limit=50';
        const r = await api.get(`/api/channels/${channelId}/messages${q}`, bob.token);
        expect(r.status).toBe(200);
        pageSizes.push(r.body.messages.length);
        seen.push(...(r.body.messages as Message[]));
        cursor = r.body.nextCursor;
        if (cursor !== null) expect(typeof cursor).toBe('string');
        pages++;
        expect(pages).toBeLessThan(10);
      } while (cursor !== null);

      expect(pageSizes).toEqual([50, 50, 20]);
      expect(seen.map((m) => m.id)).toEqual([...posted].reverse());
      expect(seen.map((m) => m.content)).toEqual(posted.map((_, i) => `m${119 - i}`));
      expect(new Set(seen.map((m) => m.id)).size).toBe(120);
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i - 1]!.createdAt >= seen[i]!.createdAt).toBe(true);
        expect(seen[i - 1]!.seq).toBeGreaterThan(seen[i]!.seq);
      }
      // The default page size is 50.
      const first = await api.get(`/api/channels/${channelId}/messages`, bob.token);
      expect(first.body.messages).toHaveLength(LIMITS.pageSizeDefault);
      expect(first.body.messages.map((m: Message) => m.id)).toEqual(
        seen.slice(0, 50).map((m) => m.id),
      );
      // Pages that end exactly at the oldest message: the last one says nextCursor null.
      const a = await api.get(`/api/channels/${channelId}/messages?limit=100`, bob.token);
      expect(a.body.messages).toHaveLength(100);
      expect(a.body.nextCursor).not.toBeNull();
      const b = await api.get(
        `/api/channels/${channelId}/messages?limit=20&before=${a.body.nextCursor}`,
        bob.token,
      );
      expect(b.body.messages.map((m: Message) => m.id)).toEqual(posted.slice(0, 20).reverse());
      expect(b.body.nextCursor).toBeNull();
    });
  });
});

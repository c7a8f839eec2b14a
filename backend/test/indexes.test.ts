import { Types, type Model } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../src/auth/user.model.js';
import { RefreshToken } from '../src/auth/refresh-token.model.js';
import { Member } from '../src/projects/project.model.js';
import { Task } from '../src/tasks/task.model.js';
import { Channel } from '../src/chat/channel.model.js';
import { Message } from '../src/chat/message.model.js';
import { Workspace } from '../src/workspaces/workspace.model.js';
import { Outbox } from '../src/projects/write-path.js';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';

interface IndexInfo {
  name: string;
  key: Record<string, number>;
  unique?: boolean;
}

/**
 * One query the API makes: the equality fields of its filter, then the fields it sorts by.
 * An index serves it when the index's leading keys are the equality fields (in any order)
 * followed by the sort fields (in order).
 */
interface QueryShape {
  what: string;
  model: Model<any>;
  filter: Record<string, unknown>;
  sort?: Record<string, 1 | -1>;
  /** The index must be unique on exactly the filter fields. */
  unique?: boolean;
}

function serves(index: IndexInfo, shape: QueryShape): boolean {
  const keys = Object.keys(index.key);
  const eq = Object.keys(shape.filter);
  const sort = Object.keys(shape.sort ?? {});
  const lead = keys.slice(0, eq.length);
  if (lead.length !== eq.length || !eq.every((f) => lead.includes(f))) return false;
  const rest = keys.slice(eq.length, eq.length + sort.length);
  if (sort.some((f, i) => rest[i] !== f)) return false;
  if (shape.unique) return index.unique === true && keys.length === eq.length;
  return true;
}

describe('indexes for every query shape the API makes', () => {
  let t: TestApi;
  let shapes: QueryShape[];

  beforeAll(async () => {
    t = await startApi();
    const api = client(t.url);
    const alice = await registerUser(api, 'Alice');
    const p = await api.post('/api/projects', { name: 'Indexed' }, alice.token);
    const pid = new Types.ObjectId(p.body.project.id as string);
    const uid = new Types.ObjectId(alice.user.id);
    const task = await api.post(`/api/projects/${pid}/tasks`, { title: 'x' }, alice.token);
    expect(task.status).toBe(201);
    const channels = await api.get(`/api/projects/${pid}/channels`, alice.token);
    const cid = new Types.ObjectId(channels.body.channels[0].id as string);
    shapes = [
      {
        what: 'board: tasks by project + status, ordered by position',
        model: Task,
        filter: { projectId: pid, status: 'todo' },
        sort: { position: 1 },
      },
      {
        what: 'position uniqueness per column',
        model: Task,
        filter: { projectId: pid, status: 'todo', position: 'a0' },
        unique: true,
      },
      {
        what: 'tasks by project + assignee',
        model: Task,
        filter: { projectId: pid, assignee: uid },
      },
      { what: 'tasks of a project (cascade)', model: Task, filter: { projectId: pid } },
      {
        what: 'membership check: members by project + user (unique)',
        model: Member,
        filter: { projectId: pid, userId: uid },
        unique: true,
      },
      { what: 'my projects: members by user', model: Member, filter: { userId: uid } },
      {
        what: 'message history: by channel, newest first by seq (the page cursor)',
        model: Message,
        filter: { channelId: cid },
        sort: { seq: -1 },
      },
      {
        what: 'outbox sweep: records by age',
        model: Outbox,
        filter: { createdAt: { $lte: new Date() } },
      },
      {
        what: 'outbox recovery: records of a project, oldest first',
        model: Outbox,
        filter: { projectId: pid.toString() },
        sort: { createdAt: 1 },
      },
      { what: 'messages of a project (cascade)', model: Message, filter: { projectId: pid } },
      {
        what: 'login: users by email (unique)',
        model: User,
        filter: { email: alice.user.email },
        unique: true,
      },
      {
        what: 'refresh: tokens by hash (unique)',
        model: RefreshToken,
        filter: { tokenHash: 'f'.repeat(64) },
        unique: true,
      },
      { what: 'refresh: token family revocation', model: RefreshToken, filter: { family: 'x' } },
      {
        what: 'channels by project + name (unique)',
        model: Channel,
        filter: { projectId: pid, name: 'general' },
        unique: true,
      },
      { what: 'channels of a project', model: Channel, filter: { projectId: pid } },
      { what: 'workspaces by owner', model: Workspace, filter: { ownerId: uid } },
    ];
  });
  afterAll(async () => {
    await t.close();
  });

  it('each query shape has a matching index', async () => {
    const missing: string[] = [];
    for (const shape of shapes) {
      const indexes = (await shape.model.listIndexes()) as IndexInfo[];
      if (!indexes.some((ix) => serves(ix, shape))) {
        missing.push(
          `${shape.what} (${shape.model.collection.name}: ${JSON.stringify(indexes.map((i) => i.key))})`,
        );
      }
    }
    expect(missing).toEqual([]);
  });

  it('the matcher itself rejects indexes that do not serve a shape', () => {
    const shape: QueryShape = {
      what: 'x',
      model: Task,
      filter: { projectId: 1, status: 1 },
      sort: { position: 1 },
    };
    expect(serves({ name: 'a', key: { status: 1, projectId: 1, position: 1 } }, shape)).toBe(true);
    expect(serves({ name: 'b', key: { projectId: 1, position: 1 } }, shape)).toBe(false);
    expect(serves({ name: 'c', key: { projectId: 1, status: 1 } }, shape)).toBe(false);
    expect(serves({ name: 'd', key: { position: 1, projectId: 1, status: 1 } }, shape)).toBe(false);
    const uniq: QueryShape = { what: 'u', model: User, filter: { email: 1 }, unique: true };
    expect(serves({ name: 'e', key: { email: 1 } }, uniq)).toBe(false);
    expect(serves({ name: 'f', key: { email: 1, name: 1 }, unique: true }, uniq)).toBe(false);
    expect(serves({ name: 'g', key: { email: 1 }, unique: true }, uniq)).toBe(true);
  });

  it('the server explains each query (ok: 1); on real MongoDB the plan uses an index', async () => {
    for (const shape of shapes) {
      let q = shape.model.find(shape.filter);
      if (shape.sort) q = q.sort(shape.sort);
      const raw = (await q.explain('queryPlanner')) as unknown;
      const explain = (Array.isArray(raw) ? raw[0] : raw) as {
        ok?: number;
        serverInfo?: { ferretdbVersion?: string };
        queryPlanner?: unknown;
      };
      expect(explain.ok, shape.what).toBe(1);
      expect(explain.queryPlanner, shape.what).toBeDefined();
      // FerretDB 1.x answers explain with its backend's plan and never an index scan: on SQLite
      // nothing but `_id` is pushed down; on PostgreSQL the filter is pushed down as
      // `_jsonb -> 'field' @> value`, a sequential scan that its expression indexes cannot serve
      // (docs/storage.md). So index use can only be asserted on a real MongoDB server (for
      // example when MONGODB_URI points at mongo:7). There, every shape must be an IXSCAN, not a
      // COLLSCAN.
      if (!explain.serverInfo?.ferretdbVersion) {
        const plan = JSON.stringify(explain.queryPlanner);
        expect(plan, shape.what).toContain('IXSCAN');
        expect(plan, shape.what).not.toContain('COLLSCAN');
      }
    }
  });
});

/** Unit tests of the zod schemas in @collabflow/shared (the built package, as the backend uses it). */
import {
  LIMITS,
  addMemberBody,
  chatMessagePayload,
  createChannelBody,
  createProjectBody,
  createTaskBody,
  email,
  joinProjectPayload,
  listMessagesQuery,
  listTasksQuery,
  loginBody,
  moveTaskBody,
  objectId,
  registerBody,
  taskMovePayload,
  taskUpdatePayload,
  updateProjectBody,
  updateTaskBody,
} from '@collabflow/shared';
import { describe, expect, it } from 'vitest';

const ID = '0123456789abcdef01234567';

describe('shared schemas', () => {
  it('objectId: 24 hex characters, lower-cased; anything else rejected', () => {
    expect(objectId.parse(ID.toUpperCase())).toBe(ID);
    for (const bad of ['', 'xyz', ID.slice(1), `${ID}0`, 'g'.repeat(24), 12, null, { $gt: '' }]) {
      expect(objectId.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('email: trimmed, lower-cased, validated', () => {
    expect(email.parse('  Alice@Example.TEST ')).toBe('alice@example.test');
    for (const bad of ['alice', 'a@', '', `${'a'.repeat(250)}@x.io`, { $gt: '' }]) {
      expect(email.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('register and login are strict and reject operator objects', () => {
    const ok = { email: 'a@b.test', password: 'x'.repeat(LIMITS.passwordMin), name: 'A' };
    expect(registerBody.parse(ok)).toEqual(ok);
    expect(
      registerBody.safeParse({ ...ok, password: 'x'.repeat(LIMITS.passwordMin - 1) }).success,
    ).toBe(false);
    expect(registerBody.safeParse({ ...ok, role: 'admin' }).success).toBe(false);
    expect(registerBody.safeParse({ ...ok, name: '   ' }).success).toBe(false);
    expect(loginBody.safeParse({ email: { $gt: '' }, password: 'x' }).success).toBe(false);
    expect(loginBody.safeParse({ email: 'a@b.test', password: { $gt: '' } }).success).toBe(false);
    expect(loginBody.safeParse({ email: 'a@b.test', password: '' }).success).toBe(false);
  });

  it('task title: 200 characters after trimming are fine, 201 are not', () => {
    expect(createTaskBody.safeParse({ title: 'x'.repeat(LIMITS.titleMax) }).success).toBe(true);
    expect(createTaskBody.safeParse({ title: ` ${'x'.repeat(LIMITS.titleMax)} ` }).success).toBe(
      true,
    );
    expect(createTaskBody.safeParse({ title: 'x'.repeat(LIMITS.titleMax + 1) }).success).toBe(
      false,
    );
    expect(createTaskBody.safeParse({ title: '' }).success).toBe(false);
    expect(createTaskBody.safeParse({}).success).toBe(false);
  });

  it('task create: enums, dates, labels, subtasks and unknown keys', () => {
    const full = createTaskBody.parse({
      title: 't',
      status: 'review',
      priority: 'urgent',
      assignee: ID,
      dueDate: '2030-01-01T10:00:00+02:00',
      labels: [' bug '],
      subtasks: [{ title: 's' }],
    });
    expect(full.labels).toEqual(['bug']);
    expect(full.subtasks).toEqual([{ title: 's', done: false }]);
    expect(createTaskBody.parse({ title: 't', dueDate: '2030-01-01' }).dueDate).toBe('2030-01-01');
    for (const extra of [
      { status: 'blocked' },
      { priority: 'p0' },
      { assignee: 'me' },
      { dueDate: 'soon' },
      { labels: Array.from({ length: LIMITS.labelsMax + 1 }, () => 'l') },
      { labels: ['x'.repeat(LIMITS.labelMax + 1)] },
      { subtasks: [{ title: 's', extra: true }] },
      { position: 'a0' },
      { projectId: ID },
    ]) {
      expect(
        createTaskBody.safeParse({ title: 't', ...extra }).success,
        JSON.stringify(extra),
      ).toBe(false);
    }
  });

  it('task update needs a change besides version and cannot change status', () => {
    expect(updateTaskBody.safeParse({ version: 1 }).success).toBe(false);
    expect(updateTaskBody.safeParse({}).success).toBe(false);
    expect(updateTaskBody.safeParse({ status: 'done' }).success).toBe(false);
    expect(updateTaskBody.safeParse({ version: -1, title: 'x' }).success).toBe(false);
    expect(updateTaskBody.safeParse({ version: 1.5, title: 'x' }).success).toBe(false);
    expect(updateTaskBody.parse({ version: 2, assignee: null })).toEqual({
      version: 2,
      assignee: null,
    });
    expect(taskUpdatePayload.safeParse({ projectId: ID, taskId: ID, updates: {} }).success).toBe(
      false,
    );
  });

  it('move: status required; neighbours are ids or null; index is a non-negative integer', () => {
    expect(moveTaskBody.parse({ status: 'done', afterId: null, beforeId: ID })).toEqual({
      status: 'done',
      afterId: null,
      beforeId: ID,
    });
    for (const bad of [
      {},
      { status: 'done', index: -1 },
      { status: 'done', index: 0.5 },
      { status: 'done', afterId: 'x' },
      { status: 'done', position: 'a0' },
    ]) {
      expect(moveTaskBody.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(
      taskMovePayload.safeParse({ projectId: ID, taskId: ID, toStatus: 'todo', newIndex: 0 })
        .success,
    ).toBe(true);
  });

  it('query schemas reject operator keys and arrays', () => {
    expect(listTasksQuery.parse({ status: 'todo', assignee: ID })).toEqual({
      status: 'todo',
      assignee: ID,
    });
    expect(listTasksQuery.safeParse({ 'status[$gt]': '' }).success).toBe(false);
    expect(listTasksQuery.safeParse({ status: { $gt: '' } }).success).toBe(false);
    expect(listTasksQuery.safeParse({ status: ['todo', 'done'] }).success).toBe(false);
    expect(listTasksQuery.safeParse({ assignee: { $ne: 'x' } }).success).toBe(false);
    expect(listMessagesQuery.parse({})).toEqual({ limit: LIMITS.pageSizeDefault });
    expect(listMessagesQuery.parse({ limit: '7' })).toEqual({ limit: 7 });
    expect(listMessagesQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(listMessagesQuery.safeParse({ limit: String(LIMITS.pageSizeMax + 1) }).success).toBe(
      false,
    );
  });

  it('projects, members, channels and messages', () => {
    expect(createProjectBody.parse({ name: ' P ' })).toEqual({ name: 'P' });
    expect(createProjectBody.safeParse({ name: 'P', workspaceId: 'x' }).success).toBe(false);
    expect(updateProjectBody.safeParse({}).success).toBe(false);
    expect(addMemberBody.parse({ email: 'A@B.test' })).toEqual({
      email: 'a@b.test',
      role: 'member',
    });
    expect(addMemberBody.safeParse({ email: 'a@b.test', role: 'god' }).success).toBe(false);
    expect(createChannelBody.parse({ name: ' Dev-Ops ' })).toEqual({ name: 'dev-ops' });
    expect(createChannelBody.safeParse({ name: 'two words' }).success).toBe(false);
    expect(
      chatMessagePayload.safeParse({ channelId: ID, content: 'x'.repeat(LIMITS.messageMax) })
        .success,
    ).toBe(true);
    expect(
      chatMessagePayload.safeParse({ channelId: ID, content: 'x'.repeat(LIMITS.messageMax + 1) })
        .success,
    ).toBe(false);
    expect(chatMessagePayload.safeParse({ channelId: ID, content: '   ' }).success).toBe(false);
  });

  it('join:project takes a bare id or { projectId, sinceSeq }', () => {
    expect(joinProjectPayload.parse(ID)).toEqual({ projectId: ID, sinceSeq: undefined });
    expect(joinProjectPayload.parse({ projectId: ID, sinceSeq: 3 })).toEqual({
      projectId: ID,
      sinceSeq: 3,
    });
    expect(joinProjectPayload.safeParse({ projectId: ID, sinceSeq: -1 }).success).toBe(false);
    expect(joinProjectPayload.safeParse({ projectId: { $gt: '' } }).success).toBe(false);
  });
});

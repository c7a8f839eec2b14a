import { describe, expect, it } from 'vitest';
import type { AnyDomainEvent, TaskDTO, TaskStatus } from '@collabflow/shared';
import { BoardStore, matchesFilter } from './board-store';

let n = 0;
function task(status: TaskStatus, position: string, extra: Partial<TaskDTO> = {}): TaskDTO {
  n += 1;
  const id = extra.id ?? `t${String(n).padStart(3, '0')}`;
  return {
    id,
    projectId: 'p',
    title: `Task ${id}`,
    description: '',
    status,
    priority: 'medium',
    assignee: null,
    dueDate: null,
    labels: [],
    subtasks: [],
    position,
    version: 0,
    createdBy: 'u',
    createdAt: '',
    updatedAt: '',
    ...extra,
  };
}

function moved(t: TaskDTO, seq: number): AnyDomainEvent {
  return {
    type: 'task:moved',
    projectId: 'p',
    seq,
    at: '',
    actor: 'u2',
    data: {
      taskId: t.id,
      fromStatus: 'todo',
      toStatus: t.status,
      newIndex: 0,
      task: t,
      movedBy: 'u2',
    },
  };
}

describe('BoardStore', () => {
  it('orders each column by fractional position and keeps unchanged columns identical', () => {
    const a = task('todo', 'a1');
    const b = task('todo', 'a0');
    const c = task('done', 'a0');
    const s = new BoardStore();
    s.reset([a, b, c]);
    expect(s.getColumn('todo')).toEqual([b.id, a.id]);
    const doneBefore = s.getColumn('done');
    const todoBefore = s.getColumn('todo');
    s.upsert({ ...a, title: 'renamed', version: 1 });
    expect(s.getColumn('done')).toBe(doneBefore);
    expect(s.getColumn('todo')).toBe(todoBefore); // same order: same array
    expect(s.getTask(a.id)?.title).toBe('renamed');
    expect(s.getTask(c.id)).toBe(c); // untouched tasks keep their identity
  });

  it('ignores an older version of a task than the one it has', () => {
    const a = task('todo', 'a0', { version: 3 });
    const s = new BoardStore();
    s.reset([a]);
    s.apply(moved({ ...a, status: 'done', version: 2 }, 1));
    expect(s.getTask(a.id)?.status).toBe('todo');
    s.apply(moved({ ...a, status: 'done', version: 4 }, 2));
    expect(s.getColumn('done')).toEqual([a.id]);
  });

  it('applies a drop at once, names the neighbour to send, and snaps back on refusal', () => {
    const a = task('todo', 'a0');
    const r1 = task('review', 'a0');
    const r2 = task('review', 'a1');
    const s = new BoardStore();
    s.reset([a, r1, r2]);
    const intent = s.moveOptimistic(a.id, 'review', 1);
    expect(intent).toMatchObject({ fromStatus: 'todo', toStatus: 'review', afterId: r1.id });
    expect(intent?.beforeId).toBeUndefined();
    expect(s.getColumn('review')).toEqual([r1.id, a.id, r2.id]);
    expect(s.getColumn('todo')).toEqual([]);
    expect(s.isPending(a.id)).toBe(true);
    // A second drag of the same card waits for the answer to the first.
    expect(s.moveOptimistic(a.id, 'done', 0)).toBeNull();
    s.settle(a.id); // refused: back where the server has it
    expect(s.getColumn('todo')).toEqual([a.id]);
    expect(s.getColumn('review')).toEqual([r1.id, r2.id]);
  });

  it('settles on the server answer even when it places the card elsewhere', () => {
    const a = task('todo', 'a0');
    const r1 = task('review', 'a0');
    const s = new BoardStore();
    s.reset([a, r1]);
    s.moveOptimistic(a.id, 'review', 0);
    expect(s.getColumn('review')).toEqual([a.id, r1.id]);
    s.settle(a.id, { ...a, status: 'review', position: 'a1', version: 1 });
    expect(s.getColumn('review')).toEqual([r1.id, a.id]);
    expect(s.isPending(a.id)).toBe(false);
  });

  it('does nothing for a drop on the place the card already has', () => {
    const a = task('todo', 'a0');
    const b = task('todo', 'a1');
    const s = new BoardStore();
    s.reset([a, b]);
    expect(s.moveOptimistic(b.id, 'todo', 1)).toBeNull();
    expect(s.isPending(b.id)).toBe(false);
  });

  it('previews a card in another column while dragging, and cancels back', () => {
    const a = task('todo', 'a0');
    const s = new BoardStore();
    s.reset([a]);
    s.preview(a.id, 'done', 0);
    expect(s.getColumn('done')).toEqual([a.id]);
    s.cancelPreview(a.id);
    expect(s.getColumn('todo')).toEqual([a.id]);
    expect(s.getColumn('done')).toEqual([]);
  });

  it('filters by text, assignee and priority, and moves land between visible neighbours', () => {
    const a = task('todo', 'a0', { title: 'Write docs', priority: 'high' });
    const b = task('todo', 'a1', { title: 'Fix login', assignee: 'u1' });
    const c = task('todo', 'a2', { title: 'Write tests', priority: 'high' });
    const s = new BoardStore();
    s.reset([a, b, c]);
    s.setFilter({ text: 'write', assignee: null, priority: null });
    expect(s.getColumn('todo')).toEqual([a.id, c.id]);
    expect(matchesFilter(b, { text: '', assignee: 'none', priority: null })).toBe(false);
    expect(matchesFilter(a, { text: '', assignee: 'none', priority: 'high' })).toBe(true);
    // c dropped at the top of the visible list: before a in the full column.
    const intent = s.moveOptimistic(c.id, 'todo', 0);
    expect(intent).toMatchObject({ beforeId: a.id });
    s.setFilter({ text: '', assignee: null, priority: null });
    expect(s.getColumn('todo')).toEqual([c.id, a.id, b.id]);
  });

  it('removes deleted tasks', () => {
    const a = task('todo', 'a0');
    const s = new BoardStore();
    s.reset([a]);
    s.apply({
      type: 'task:deleted',
      projectId: 'p',
      seq: 1,
      at: '',
      actor: 'u',
      data: { taskId: a.id, deletedBy: 'u' },
    });
    expect(s.getColumn('todo')).toEqual([]);
    expect(s.getTask(a.id)).toBeUndefined();
  });
});

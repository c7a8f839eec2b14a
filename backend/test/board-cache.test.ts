import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose, { Types } from 'mongoose';
import type { AnyDomainEvent, TaskDTO } from '@collabflow/shared';
import { freshMongoUri } from './helpers/api.js';
import { BoardCache } from '../src/tasks/board-cache.js';
import { Task, toTaskDTO, type TaskDoc } from '../src/tasks/task.model.js';

/**
 * [W7] The board cache against a real FerretDB: it reads a project's tasks once, then follows
 * the events in seq order (whatever order they arrive in), waits briefly for an event still on
 * its way, and reads again when it cannot be sure.
 */
const pid = new Types.ObjectId();
const P = pid.toString();
let seqTask: TaskDoc;

function taskEvent(
  type: 'task:created' | 'task:moved',
  seq: number,
  task: TaskDTO,
): AnyDomainEvent {
  const data =
    type === 'task:created'
      ? { task, createdBy: 'u' }
      : {
          taskId: task.id,
          fromStatus: 'todo' as const,
          toStatus: task.status,
          newIndex: 0,
          task,
          movedBy: 'u',
        };
  return {
    type,
    projectId: P,
    seq,
    at: new Date(0).toISOString(),
    actor: 'u',
    data,
  } as AnyDomainEvent;
}

beforeAll(async () => {
  await mongoose.connect(freshMongoUri('board_cache'), { autoIndex: false });
  seqTask = (
    await Task.create({
      projectId: pid,
      title: 'first',
      position: 'a0',
      createdBy: new Types.ObjectId(),
    })
  ).toObject() as TaskDoc;
});
afterAll(async () => {
  await mongoose.disconnect();
});

describe('BoardCache', () => {
  it('[W7] reads once, then follows events in seq order, buffering one that arrives early', async () => {
    const cache = new BoardCache();
    const board = await cache.at(P, 10);
    expect([...board.keys()]).toEqual([seqTask._id.toString()]);
    expect(cache.reads).toBe(1);

    const moved = { ...toTaskDTO(seqTask), status: 'done' as const, version: 1 };
    const created: TaskDTO = {
      ...toTaskDTO(seqTask),
      id: new Types.ObjectId().toString(),
      title: 'second',
      position: 'a1',
    };
    cache.apply(taskEvent('task:moved', 12, moved)); // early: 11 is missing
    expect((await cache.at(P, 10)).get(moved.id)?.status).toBe('todo');
    cache.apply(taskEvent('task:created', 11, created));
    const now = await cache.at(P, 12);
    expect(now.get(moved.id)).toMatchObject({ status: 'done', version: 1 });
    expect(now.get(created.id)).toMatchObject({ title: 'second', position: 'a1' });
    expect(cache.reads).toBe(1);
    expect(cache.hits).toBe(2);
  });

  it('[W7] a change at a seq the board has not reached waits for the event, else reads the tasks again', async () => {
    const cache = new BoardCache();
    await cache.at(P, 20);
    const moved = { ...toTaskDTO(seqTask), status: 'review' as const, version: 5 };
    setTimeout(() => cache.apply(taskEvent('task:moved', 21, moved)), 5);
    expect((await cache.at(P, 21)).get(moved.id)?.status).toBe('review'); // waited for it
    expect(cache.reads).toBe(1);
    // Seq 30 never arrives: after a short wait the board is read from the database again.
    const again = await cache.at(P, 30);
    expect(again.get(moved.id)?.status).toBe('todo');
    expect(cache.reads).toBe(2);
  });

  it('[W7] project:deleted and forget drop the board', async () => {
    const cache = new BoardCache();
    await cache.at(P, 1);
    cache.apply({
      type: 'project:deleted',
      projectId: P,
      seq: 2,
      at: '',
      actor: 'u',
      data: { projectId: P },
    });
    await cache.at(P, 2);
    expect(cache.reads).toBe(2);
    cache.forget(P);
    await cache.at(P, 2);
    expect(cache.reads).toBe(3);
  });
});

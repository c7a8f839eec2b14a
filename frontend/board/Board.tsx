'use client';
/**
 * The Kanban board: one DndContext, one SortableContext per column (dnd-kit's multiple
 * containers pattern), a DragOverlay for the lifted card, mouse, touch and keyboard sensors and
 * screen-reader announcements that name the card and the column. A drop is applied at once and
 * sent as `task:move`; the answer settles it, a refusal snaps it back with the reason.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  MouseSensor,
  TouchSensor,
  closestCorners,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
  type UniqueIdentifier,
} from '@dnd-kit/core';
import { arrayMove } from '@dnd-kit/sortable';
import { TASK_STATUSES, type TaskDTO, type TaskStatus } from '@collabflow/shared';
import { ApiError, describeError } from '@/lib/api';
import { emitWithAck } from '@/hooks/useSocket';
import type { AppSocket } from '@/lib/socket';
import { useToast } from '@/components/toast';
import type { ProjectSession } from '@/project/session';
import { CardBody } from './Card';
import { Column } from './Column';
import { BoardContext, type BoardContextValue } from './context';
import { boardKeyboardCoordinates } from './keyboard';
import { STATUS_LABELS } from './labels';
import styles from './board.module.css';

/** Where a drop on a column (not on a card) lands: after the last card the column shows. */
function columnEnd(over: { data: { current?: Record<string, unknown> } }, length: number): number {
  const end = over.data.current?.endIndex;
  return typeof end === 'number' ? Math.min(end, length) : length;
}

function statusOf(id: UniqueIdentifier, session: ProjectSession): TaskStatus | undefined {
  const s = String(id);
  if (s.startsWith('column:')) return s.slice(7) as TaskStatus;
  return session.board.getTask(s)?.status;
}

export function Board({
  session,
  socket,
  readOnly,
  filtered,
  onAdd,
  onOpen,
}: {
  session: ProjectSession;
  socket: AppSocket;
  readOnly: boolean;
  filtered: boolean;
  onAdd: (status: TaskStatus) => void;
  onOpen: (taskId: string) => void;
}) {
  const store = session.board;
  const toast = useToast();
  const [activeId, setActiveId] = useState<string | null>(null);
  const origin = useRef<TaskStatus | null>(null);

  const keyboardCoordinates = useMemo(
    () =>
      boardKeyboardCoordinates(
        (id) => store.getTask(id)?.status,
        (status) => store.getColumn(status),
      ),
    [store],
  );
  const sensors = useSensors(
    useSensor(MouseSensor, { activationConstraint: { distance: 5 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: keyboardCoordinates }),
  );

  const membersById = useMemo(
    () => new Map(session.members.map((m) => [m.userId, m])),
    [session.members],
  );
  const onlineById = useMemo(() => new Map(session.online.map((u) => [u.id, u])), [session.online]);
  const ctx: BoardContextValue = useMemo(
    () => ({ store, readOnly, membersById, onlineById, openCard: onOpen }),
    [store, readOnly, membersById, onlineById, onOpen],
  );

  const title = useCallback(
    (id: UniqueIdentifier) => store.getTask(String(id))?.title ?? 'card',
    [store],
  );
  const place = useCallback(
    (id: UniqueIdentifier) => {
      const status = statusOf(id, session);
      if (!status) return '';
      const col = store.getColumn(status);
      const i = col.indexOf(String(id));
      return i >= 0
        ? `${STATUS_LABELS[status]}, position ${i + 1} of ${col.length}`
        : STATUS_LABELS[status];
    },
    [store, session],
  );
  const announcements: Announcements = useMemo(
    () => ({
      onDragStart: ({ active }) => `Picked up card ${title(active.id)} in ${place(active.id)}.`,
      onDragOver: ({ active, over }) =>
        over ? `Card ${title(active.id)} is now in ${place(active.id)}.` : undefined,
      onDragEnd: ({ active, over }) =>
        over
          ? `Dropped card ${title(active.id)} in ${place(active.id)}.`
          : `Card ${title(active.id)} was not moved.`,
      onDragCancel: ({ active }) =>
        `Moving card ${title(active.id)} was cancelled. It is back in ${place(active.id)}.`,
    }),
    [title, place],
  );

  const onDragStart = ({ active }: DragStartEvent) => {
    setActiveId(String(active.id));
    origin.current = store.getTask(String(active.id))?.status ?? null;
  };

  // Crossing into another column moves the card there at once, so the column opens a gap.
  const onDragOver = ({ active, over }: DragOverEvent) => {
    if (!over) return;
    const id = String(active.id);
    const from = statusOf(active.id, session);
    const to = statusOf(over.id, session);
    if (!from || !to || from === to) return;
    const col = store.getColumn(to);
    let index = columnEnd(over, col.length);
    if (!String(over.id).startsWith('column:')) {
      const overIndex = col.indexOf(String(over.id));
      const rect = active.rect.current.translated;
      const below = rect && rect.top > over.rect.top + over.rect.height / 2;
      index = overIndex >= 0 ? overIndex + (below ? 1 : 0) : col.length;
    }
    store.preview(id, to, index);
  };

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    setActiveId(null);
    const id = String(active.id);
    const to = over ? statusOf(over.id, session) : undefined;
    if (!over || !to) {
      store.cancelPreview(id);
      return;
    }
    const col = [...store.getColumn(to)];
    let from = col.indexOf(id);
    if (from < 0) {
      col.push(id);
      from = col.length - 1;
    }
    const overIndex = String(over.id).startsWith('column:')
      ? Math.min(col.length - 1, columnEnd(over, col.length))
      : col.indexOf(String(over.id));
    const finalOrder = overIndex >= 0 ? arrayMove(col, from, overIndex) : col;
    const index = finalOrder.indexOf(id);
    const intent = store.moveOptimistic(id, to, index);
    if (!intent) {
      store.cancelPreview(id);
      return;
    }
    const { taskId, fromStatus, toStatus, afterId, beforeId, version } = intent;
    emitWithAck(socket, 'task:move', {
      projectId: session.projectId,
      taskId,
      fromStatus,
      toStatus,
      ...(afterId ? { afterId } : {}),
      ...(beforeId ? { beforeId } : {}),
      version,
      clientId: crypto.randomUUID(),
    })
      .then(({ task }) => store.settle(taskId, task))
      .catch((err: unknown) => {
        const current =
          err instanceof ApiError && err.code === 'version_conflict'
            ? (err.details as { task?: TaskDTO } | undefined)?.task
            : undefined;
        store.settle(taskId, current);
        toast(`Could not move "${title(taskId)}": ${describeError(err)}`, 'error');
      });
  };

  const onDragCancel = ({ active }: { active: { id: UniqueIdentifier } }) => {
    setActiveId(null);
    store.cancelPreview(String(active.id));
  };

  const activeTask = activeId ? store.getTask(activeId) : undefined;
  const columns = TASK_STATUSES.map((status) => (
    <Column key={status} status={status} onAdd={onAdd} filtered={filtered} />
  ));

  return (
    <BoardContext.Provider value={ctx}>
      {readOnly ? (
        <div className={styles.board}>{columns}</div>
      ) : (
        <DndContext
          sensors={sensors}
          collisionDetection={closestCorners}
          onDragStart={onDragStart}
          onDragOver={onDragOver}
          onDragEnd={onDragEnd}
          onDragCancel={onDragCancel}
          accessibility={{
            announcements,
            screenReaderInstructions: {
              draggable:
                'To pick up a card, press Space or Enter. Use the arrow keys to move it within a column or to another column. Press Space or Enter again to drop it, or Escape to cancel.',
            },
          }}
        >
          <div className={styles.board}>{columns}</div>
          <DragOverlay>
            {activeTask ? (
              <div className={`${styles.card} ${styles.overlay}`}>
                <CardBody
                  task={activeTask}
                  assignee={activeTask.assignee ? membersById.get(activeTask.assignee) : undefined}
                />
              </div>
            ) : null}
          </DragOverlay>
        </DndContext>
      )}
    </BoardContext.Provider>
  );
}

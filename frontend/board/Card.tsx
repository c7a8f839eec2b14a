'use client';
/**
 * A card on the board. The sortable wrapper re-renders while a drag moves things around; the
 * body (title, badges, avatar) is memoized on the task object, so a drag does not re-render the
 * contents of every card.
 */
import { memo } from 'react';
import { useSortable } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import type { MemberDTO, TaskDTO } from '@collabflow/shared';
import { Avatar } from '@/presence/Avatar';
import { useBoardContext } from './context';
import { useIsPending, useTask } from './hooks';
import { PRIORITY_LABELS, formatDue, isOverdue } from './labels';
import styles from './board.module.css';

export const CardBody = memo(function CardBody({
  task,
  assignee,
  onOpen,
}: {
  task: TaskDTO;
  assignee: MemberDTO | undefined;
  /** Stable across renders (the board's openCard), so the memo holds. */
  onOpen?: (taskId: string) => void;
}) {
  const done = task.subtasks.filter((s) => s.done).length;
  return (
    <div className={styles.cardInner}>
      {onOpen ? (
        <button type="button" className={styles.cardTitle} onClick={() => onOpen(task.id)}>
          {task.title}
        </button>
      ) : (
        <span className={styles.cardTitle}>{task.title}</span>
      )}
      <div className={styles.cardMeta}>
        <span className={styles.priority} data-priority={task.priority}>
          {PRIORITY_LABELS[task.priority]}
        </span>
        {task.labels.map((l) => (
          <span key={l} className={styles.label}>
            {l}
          </span>
        ))}
        {task.dueDate && (
          <span
            className={styles.due}
            data-overdue={task.status !== 'done' && isOverdue(task.dueDate)}
            title={`Due ${task.dueDate.slice(0, 10)}`}
          >
            Due {formatDue(task.dueDate)}
          </span>
        )}
        {task.subtasks.length > 0 && (
          <span className={styles.subtaskCount} title="Subtasks done">
            ✓ {done}/{task.subtasks.length}
          </span>
        )}
        <span className={styles.spacer} />
        {assignee?.user && (
          <span className={styles.assignee}>
            <Avatar user={assignee.user} size="sm" />
            <span className="sr-only">Assigned to {assignee.user.name}</span>
          </span>
        )}
      </div>
    </div>
  );
});

function SortableCardImpl({ id }: { id: string }) {
  const { store, readOnly, membersById, openCard } = useBoardContext();
  const task = useTask(store, id);
  const pending = useIsPending(store, id);
  const {
    attributes,
    listeners,
    setNodeRef,
    setActivatorNodeRef,
    transform,
    transition,
    isDragging,
  } = useSortable({ id, disabled: readOnly || pending, data: { type: 'card' } });
  if (!task) return null;
  const style = { transform: CSS.Translate.toString(transform), transition };
  const handle = readOnly ? null : (
    <button
      type="button"
      ref={setActivatorNodeRef}
      className={styles.handle}
      aria-label={`Move card: ${task.title}`}
      {...attributes}
      {...listeners}
    >
      <svg width="12" height="16" viewBox="0 0 12 16" aria-hidden="true">
        <circle cx="3" cy="3" r="1.5" />
        <circle cx="9" cy="3" r="1.5" />
        <circle cx="3" cy="8" r="1.5" />
        <circle cx="9" cy="8" r="1.5" />
        <circle cx="3" cy="13" r="1.5" />
        <circle cx="9" cy="13" r="1.5" />
      </svg>
    </button>
  );
  return (
    <li
      ref={setNodeRef}
      style={style}
      className={styles.card}
      data-dragging={isDragging || undefined}
      data-pending={pending || undefined}
      data-task-id={id}
      aria-label={task.title}
    >
      <CardBody
        task={task}
        assignee={task.assignee ? membersById.get(task.assignee) : undefined}
        onOpen={openCard}
      />
      {handle}
    </li>
  );
}

export const SortableCard = memo(SortableCardImpl);

// Names that survive minification, for React DevTools and the web benchmark's render counts.
CardBody.displayName = 'CardBody';
SortableCard.displayName = 'SortableCard';

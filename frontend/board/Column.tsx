'use client';
import { memo, useState } from 'react';
import { useDroppable } from '@dnd-kit/core';
import { SortableContext, verticalListSortingStrategy } from '@dnd-kit/sortable';
import type { TaskStatus } from '@collabflow/shared';
import { SortableCard } from './Card';
import { useBoardContext } from './context';
import { useColumn } from './hooks';
import { STATUS_LABELS } from './labels';
import { shownCount } from './limits';
import styles from './board.module.css';

export const columnDroppableId = (status: TaskStatus) => `column:${status}`;

function ColumnImpl({
  status,
  onAdd,
  filtered,
}: {
  status: TaskStatus;
  onAdd: (status: TaskStatus) => void;
  filtered: boolean;
}) {
  const { store, readOnly } = useBoardContext();
  const ids = useColumn(store, status);
  const [expanded, setExpanded] = useState(false);
  const shown = ids.slice(0, shownCount(ids.length, expanded));
  const hidden = ids.length - shown.length;
  // A drop on the column itself (below its cards) lands after the last card it shows.
  const { setNodeRef, isOver } = useDroppable({
    id: columnDroppableId(status),
    data: { type: 'column', status, endIndex: shown.length },
    disabled: readOnly,
  });

  const headingId = `column-${status}-heading`;
  return (
    <section className={styles.column} aria-labelledby={headingId} data-status={status}>
      <header className={styles.columnHeader}>
        <h2 id={headingId} className={styles.columnTitle}>
          {STATUS_LABELS[status]}
        </h2>
        <span className={styles.count} data-testid={`count-${status}`}>
          <span aria-hidden="true">{ids.length}</span>
          <span className="sr-only">
            {ids.length} {ids.length === 1 ? 'card' : 'cards'}
          </span>
        </span>
        <span className="spacer" />
        {!readOnly && (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => onAdd(status)}
            aria-label={`Add a card to ${STATUS_LABELS[status]}`}
          >
            + Add
          </button>
        )}
      </header>
      <SortableContext id={status} items={shown as string[]} strategy={verticalListSortingStrategy}>
        <ul ref={setNodeRef} className={styles.cards} data-over={isOver || undefined}>
          {shown.map((id) => (
            <SortableCard key={id} id={id} />
          ))}
          {hidden > 0 && (
            <li className={styles.columnMore}>
              <button
                type="button"
                className="btn btn-ghost btn-small"
                onClick={() => setExpanded(true)}
              >
                Show {hidden} more {hidden === 1 ? 'card' : 'cards'}
              </button>
            </li>
          )}
          {ids.length === 0 && (
            <li className={styles.columnEmpty}>
              {filtered
                ? 'No cards match the filters.'
                : readOnly
                  ? 'No cards here.'
                  : 'No cards yet. Drag one here or add one.'}
            </li>
          )}
        </ul>
      </SortableContext>
    </section>
  );
}

export const Column = memo(ColumnImpl);

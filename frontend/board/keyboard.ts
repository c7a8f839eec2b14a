import type { KeyboardCoordinateGetter } from '@dnd-kit/core';
import { sortableKeyboardCoordinates } from '@dnd-kit/sortable';
import { TASK_STATUSES, type TaskStatus } from '@collabflow/shared';
import { columnDroppableId } from './Column';

/**
 * Keyboard moves across columns go exactly one column per Left/Right press, landing at the card
 * nearest the same height (or in the empty column); Up/Down move within the column as usual.
 */
export function boardKeyboardCoordinates(
  statusOf: (taskId: string) => TaskStatus | undefined,
  columnIds: (status: TaskStatus) => readonly string[],
): KeyboardCoordinateGetter {
  return (event, args) => {
    const right = event.code === 'ArrowRight';
    if (!right && event.code !== 'ArrowLeft') return sortableKeyboardCoordinates(event, args);
    event.preventDefault();
    const { active, collisionRect, droppableRects } = args.context;
    if (!active || !collisionRect) return undefined;
    const from = statusOf(String(active.id));
    if (!from) return undefined;
    const target = TASK_STATUSES[TASK_STATUSES.indexOf(from) + (right ? 1 : -1)];
    if (!target) return undefined;
    let best: { left: number; top: number } | undefined;
    let bestDistance = Infinity;
    for (const id of columnIds(target)) {
      if (id === String(active.id)) continue;
      const rect = droppableRects.get(id);
      if (!rect) continue;
      const d = Math.abs(rect.top - collisionRect.top);
      if (d < bestDistance) {
        best = rect;
        bestDistance = d;
      }
    }
    best ??= droppableRects.get(columnDroppableId(target));
    return best ? { x: best.left, y: best.top } : undefined;
  };
}

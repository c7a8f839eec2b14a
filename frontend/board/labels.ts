import type { TaskPriority, TaskStatus } from '@collabflow/shared';

export const STATUS_LABELS: Record<TaskStatus, string> = {
  todo: 'To do',
  'in-progress': 'In progress',
  review: 'Review',
  done: 'Done',
};

export const PRIORITY_LABELS: Record<TaskPriority, string> = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  urgent: 'Urgent',
};

/** A due date (ISO date or date-time) as a short local date, e.g. "Dec 3". */
export function formatDue(due: string): string {
  const d = new Date(due.length === 10 ? `${due}T00:00:00` : due);
  if (Number.isNaN(d.getTime())) return due;
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function isOverdue(due: string, now = new Date()): boolean {
  const d = new Date(due.length === 10 ? `${due}T23:59:59` : due);
  return d.getTime() < now.getTime();
}

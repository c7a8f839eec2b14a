'use client';
import { useSyncExternalStore } from 'react';
import type { TaskDTO, TaskStatus } from '@collabflow/shared';
import type { BoardStore } from './board-store';

/** One task, re-rendering only when that task (or its optimistic overlay) changes. */
export function useTask(store: BoardStore, id: string): TaskDTO | undefined {
  return useSyncExternalStore(
    store.subscribe,
    () => store.getTask(id),
    () => store.getTask(id),
  );
}

/** A column's visible ids in order; a new array only when the column's contents change. */
export function useColumn(store: BoardStore, status: TaskStatus): readonly string[] {
  return useSyncExternalStore(
    store.subscribe,
    () => store.getColumn(status),
    () => store.getColumn(status),
  );
}

export function useIsPending(store: BoardStore, id: string): boolean {
  return useSyncExternalStore(
    store.subscribe,
    () => store.isPending(id),
    () => false,
  );
}

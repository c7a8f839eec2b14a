'use client';
import { createContext, useContext } from 'react';
import type { MemberDTO, PublicUserDTO } from '@collabflow/shared';
import type { BoardStore } from './board-store';

export interface BoardContextValue {
  store: BoardStore;
  /** No dragging and no editing: a viewer, or nobody connected. */
  readOnly: boolean;
  membersById: ReadonlyMap<string, MemberDTO>;
  /** Who is online now, by id (for the avatar on a card someone is editing). */
  onlineById: ReadonlyMap<string, PublicUserDTO>;
  openCard: (taskId: string) => void;
}

export const BoardContext = createContext<BoardContextValue | null>(null);

export function useBoardContext(): BoardContextValue {
  const v = useContext(BoardContext);
  if (!v) throw new Error('useBoardContext outside <BoardContext>');
  return v;
}

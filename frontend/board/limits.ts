/**
 * Cards a column renders until someone asks for the rest. Every rendered card is a dnd-kit
 * sortable, and each of them re-renders at every step of a drag, so a long column would make
 * dragging on a big board stutter (docs/benchmarks.md, "Web board with 500 cards").
 */
export const COLUMN_PAGE = 30;

/** How many of a column's cards are rendered before "Show more". */
export function shownCount(total: number, expanded = false): number {
  return expanded ? total : Math.min(total, COLUMN_PAGE);
}

import { generateKeyBetween } from 'fractional-indexing';

/** Positions compare as plain strings (code-unit order), which is what MongoDB sorts by too. */
export function comparePositions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Where a task lands in a column given in order (without the task itself): between `after` and
 * `before` (either may be null for the ends of the column).
 */
export function positionBetween(after: string | null, before: string | null): string {
  // fractional-indexing 4 silently swaps neighbours given out of order; a caller asking for a key
  // after `after` and before `before` must never get one outside that range.
  if (after !== null && before !== null && comparePositions(after, before) >= 0) {
    throw new RangeError(`position ${after} does not sort before ${before}`);
  }
  return generateKeyBetween(after, before);
}

/** The neighbours for inserting at `index` into an ordered column (clamped to its length). */
export function neighboursAt<T>(
  column: readonly T[],
  index: number,
): { after: T | null; before: T | null } {
  const i = Math.max(0, Math.min(index, column.length));
  return { after: column[i - 1] ?? null, before: column[i] ?? null };
}

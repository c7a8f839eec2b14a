import { describe, expect, it } from 'vitest';
import { comparePositions, neighboursAt, positionBetween } from '../src/tasks/ordering.js';
import { mulberry32 } from './helpers/random.js';

function expectStrictlyIncreasing(column: readonly string[]) {
  for (let i = 1; i < column.length; i++) {
    expect(comparePositions(column[i - 1]!, column[i]!), `${column[i - 1]} < ${column[i]}`).toBe(
      -1,
    );
  }
}

describe('comparePositions', () => {
  it('is plain code-unit order (what MongoDB sorts strings by), not locale order', () => {
    expect(comparePositions('a0', 'a1')).toBe(-1);
    expect(comparePositions('a1', 'a0')).toBe(1);
    expect(comparePositions('a0', 'a0')).toBe(0);
    // Upper case sorts before lower case in code-unit order; localeCompare would disagree.
    expect(comparePositions('Zz', 'a0')).toBe(-1);
    expect('Zz'.localeCompare('a0')).toBe(1);
    expect(comparePositions('a0', 'a0V')).toBe(-1);
    expect(['b0', 'a0V', 'Zz', 'a0'].sort(comparePositions)).toEqual(['Zz', 'a0', 'a0V', 'b0']);
  });
});

describe('positionBetween', () => {
  it('makes a first key, keys at either end and keys between two others', () => {
    const first = positionBetween(null, null);
    const after = positionBetween(first, null);
    const before = positionBetween(null, first);
    const mid = positionBetween(first, after);
    expectStrictlyIncreasing([before, first, mid, after]);
  });

  it('refuses neighbours in the wrong order or equal (no position satisfies them)', () => {
    const a = positionBetween(null, null);
    const b = positionBetween(a, null);
    expect(() => positionBetween(b, a)).toThrow();
    expect(() => positionBetween(a, a)).toThrow();
  });

  it('repeated inserts at the same spot stay strictly ordered (keys grow, never collide)', () => {
    let lo = positionBetween(null, null);
    const hi = positionBetween(lo, null);
    const keys = [lo, hi];
    for (let i = 0; i < 200; i++) {
      const k = positionBetween(lo, hi);
      keys.push(k);
      lo = k;
    }
    const sorted = [...keys].sort(comparePositions);
    expectStrictlyIncreasing(sorted);
    expect(new Set(keys).size).toBe(keys.length);
    // Repeatedly inserting at the front works too.
    let front = sorted[0]!;
    for (let i = 0; i < 200; i++) {
      const k = positionBetween(null, front);
      expect(comparePositions(k, front)).toBe(-1);
      front = k;
    }
  });

  it('random inserts into a column keep a strict total order', () => {
    const rand = mulberry32(42);
    const column: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const at = Math.floor(rand() * (column.length + 1));
      const { after, before } = neighboursAt(column, at);
      const key = positionBetween(after, before);
      column.splice(at, 0, key);
      if (i % 100 === 0) expectStrictlyIncreasing(column);
    }
    expectStrictlyIncreasing(column);
    expect(new Set(column).size).toBe(column.length);
  });

  it('random moves (remove then insert elsewhere) keep a strict total order', () => {
    const rand = mulberry32(7);
    const column: string[] = [];
    for (let i = 0; i < 30; i++)
      column.push(positionBetween(column[column.length - 1] ?? null, null));
    for (let i = 0; i < 2000; i++) {
      const from = Math.floor(rand() * column.length);
      column.splice(from, 1);
      const to = Math.floor(rand() * (column.length + 1));
      const { after, before } = neighboursAt(column, to);
      column.splice(to, 0, positionBetween(after, before));
    }
    expectStrictlyIncreasing(column);
    expect(column).toHaveLength(30);
  });
});

describe('neighboursAt', () => {
  const col = ['a', 'b', 'c'] as const;
  it('gives the items on either side of an index', () => {
    expect(neighboursAt(col, 0)).toEqual({ after: null, before: 'a' });
    expect(neighboursAt(col, 1)).toEqual({ after: 'a', before: 'b' });
    expect(neighboursAt(col, 2)).toEqual({ after: 'b', before: 'c' });
    expect(neighboursAt(col, 3)).toEqual({ after: 'c', before: null });
  });
  it('clamps indexes outside the column', () => {
    expect(neighboursAt(col, 99)).toEqual({ after: 'c', before: null });
    expect(neighboursAt(col, -5)).toEqual({ after: null, before: 'a' });
  });
  it('handles an empty column', () => {
    expect(neighboursAt([], 0)).toEqual({ after: null, before: null });
    expect(neighboursAt([], 3)).toEqual({ after: null, before: null });
  });
});

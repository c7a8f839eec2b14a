import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqOrderer } from './seq-order';

interface E {
  seq: number;
  name: string;
}
const ev = (seq: number): E => ({ seq, name: `e${seq}` });

describe('SeqOrderer: events applied in seq order, once each', () => {
  afterEach(() => vi.useRealTimers());

  it('buffers everything until the snapshot seq is known, then drops what the snapshot has', () => {
    const applied: number[] = [];
    const o = new SeqOrderer<E>(
      (e) => applied.push(e.seq),
      () => {},
    );
    o.push(ev(4));
    o.push(ev(6));
    o.push(ev(5));
    expect(applied).toEqual([]);
    o.reset(4);
    expect(applied).toEqual([5, 6]);
    expect(o.lastSeq).toBe(6);
  });

  it('applies early events only after the ones before them, and duplicates never', () => {
    const applied: number[] = [];
    const o = new SeqOrderer<E>(
      (e) => applied.push(e.seq),
      () => {},
    );
    o.reset(10);
    expect(o.push(ev(12))).toBe(true);
    expect(o.push(ev(13))).toBe(true);
    expect(applied).toEqual([]);
    expect(o.push(ev(11))).toBe(true);
    expect(applied).toEqual([11, 12, 13]);
    expect(o.push(ev(12))).toBe(false);
    expect(o.push(ev(9))).toBe(false);
    expect(applied).toEqual([11, 12, 13]);
  });

  it('asks to resume once when a gap does not close in time, not later for every event', () => {
    vi.useFakeTimers();
    const onGap = vi.fn();
    const o = new SeqOrderer<E>(() => {}, onGap, 1000);
    o.reset(1);
    o.push(ev(3));
    vi.advanceTimersByTime(600);
    o.push(ev(4)); // a later event does not push the deadline back
    vi.advanceTimersByTime(500);
    expect(onGap).toHaveBeenCalledTimes(1);
  });

  it('does not ask to resume when the gap closes in time', () => {
    vi.useFakeTimers();
    const onGap = vi.fn();
    const o = new SeqOrderer<E>(() => {}, onGap, 1000);
    o.reset(1);
    o.push(ev(3));
    o.push(ev(2));
    vi.advanceTimersByTime(5000);
    expect(onGap).not.toHaveBeenCalled();
  });

  it('skips numbers that belong to no event when the server says it has handed everything over', () => {
    const applied: number[] = [];
    const o = new SeqOrderer<E>(
      (e) => applied.push(e.seq),
      () => {},
    );
    o.reset(5);
    o.push(ev(8));
    o.advanceTo(7); // 6 and 7 were writes that failed; 8 may go now
    expect(applied).toEqual([8]);
    expect(o.lastSeq).toBe(8);
    o.advanceTo(3); // never backwards
    expect(o.lastSeq).toBe(8);
  });
});

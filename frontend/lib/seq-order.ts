/**
 * Applies a project's events in `seq` order, each once. Events that arrive early wait in a
 * buffer until the ones before them arrive; a gap that does not close in time asks the owner to
 * resume (rejoin with the last applied seq). Until the first `reset` (the snapshot's seq),
 * everything is buffered.
 */
export interface Sequenced {
  seq: number;
}

export class SeqOrderer<E extends Sequenced> {
  private last: number | null = null;
  private pending = new Map<number, E>();
  private gapTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly apply: (event: E) => void,
    private readonly onGap: () => void,
    private readonly gapWaitMs = 1500,
  ) {}

  /** The seq of the last event applied (or of the snapshot); null before the first reset. */
  get lastSeq(): number | null {
    return this.last;
  }

  get buffered(): number {
    return this.pending.size;
  }

  /** Starts (again) from a snapshot taken at `seq`: older buffered events are dropped. */
  reset(seq: number): void {
    this.last = seq;
    for (const s of [...this.pending.keys()]) if (s <= seq) this.pending.delete(s);
    this.drain();
  }

  /** Offers one event; returns false when it was already applied (or is older than the snapshot). */
  push(event: E): boolean {
    if (this.last !== null && event.seq <= this.last) return false;
    if (this.pending.has(event.seq)) return false;
    this.pending.set(event.seq, event);
    this.drain();
    return true;
  }

  /**
   * The server says everything up to `seq` has been handed over (a join's answer): numbers still
   * missing below it belong to no event (a write that failed after taking its number), so skip them.
   */
  advanceTo(seq: number): void {
    if (this.last === null || seq <= this.last) return;
    const upTo = [...this.pending.keys()].filter((s) => s <= seq).sort((a, b) => a - b);
    for (const s of upTo) {
      const e = this.pending.get(s)!;
      this.pending.delete(s);
      this.last = s;
      this.apply(e);
    }
    this.last = Math.max(this.last, seq);
    this.drain();
  }

  dispose(): void {
    clearTimeout(this.gapTimer);
    this.pending.clear();
  }

  private drain(): void {
    if (this.last === null) return;
    let next = this.pending.get(this.last + 1);
    while (next) {
      this.pending.delete(next.seq);
      this.last = next.seq;
      this.apply(next);
      next = this.pending.get(this.last + 1);
    }
    if (this.pending.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    } else if (this.gapTimer === undefined) {
      // The clock starts at the first gap and is not pushed back by later events.
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        if (this.pending.size > 0) this.onGap();
      }, this.gapWaitMs);
    }
  }
}

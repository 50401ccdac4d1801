import type { Clock } from '../../core/index.ts';

/** A clock that moves only when the test says, for deterministic expiries, windows and timeouts. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-22T10:00:00Z')) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

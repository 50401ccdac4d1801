import { describeError, type Logger } from '../core/index.ts';

/**
 * The agent's lifetime between `start` and `stop`: one abort signal that every deadline follows, and
 * the timers and tasks in flight, so that `stop` can cancel the former and wait for the latter.
 */
export interface BackgroundTasks {
  /** Aborted when the agent stops (or fails to start). */
  readonly signal: AbortSignal;
  /** Begins a new lifetime (at each start). */
  renew(): void;
  abort(): void;
  clearTimers(): void;
  /** Waits for the work in flight to finish. */
  settle(): Promise<void>;
  /** A signal that fires after `ms`, when the agent stops, or when `signal` does. */
  deadline(ms: number, signal?: AbortSignal): AbortSignal;
  /** Runs background work, tracked so that `stop` waits for it; failures are logged, never thrown. */
  background(what: string, work: () => Promise<unknown>): void;
  /** Runs `work` every `ms` (the first time after `firstAfterMs`), never two rounds at once. */
  every(ms: number, what: string, work: () => Promise<unknown>, firstAfterMs?: number): void;
  /** Calls `work` once after `ms`, unless the timers are cleared first. */
  after(ms: number, work: () => void): void;
}

export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  let lifetime = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<unknown>>();

  function background(what: string, work: () => Promise<unknown>): void {
    if (lifetime.signal.aborted) return;
    const task = work()
      .catch((error: unknown) => {
        if (!lifetime.signal.aborted) logger.debug(`${what} failed`, { error: describeError(error) });
      })
      .finally(() => inflight.delete(task));
    inflight.add(task);
  }

  function every(ms: number, what: string, work: () => Promise<unknown>, firstAfterMs = ms): void {
    let busy = false;
    const tick = () => {
      timers.delete(timer);
      if (lifetime.signal.aborted) return;
      if (!busy) {
        busy = true;
        background(what, async () => {
          try {
            await work();
          } finally {
            busy = false;
          }
        });
      }
      timer = setTimeout(tick, ms);
      timers.add(timer);
    };
    let timer = setTimeout(tick, firstAfterMs);
    timers.add(timer);
  }

  function after(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  }

  return {
    get signal() {
      return lifetime.signal;
    },
    renew() {
      lifetime = new AbortController();
    },
    abort() {
      lifetime.abort();
    },
    clearTimers() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
    async settle() {
      await Promise.allSettled([...inflight]);
    },
    deadline: (ms, signal) => AbortSignal.any([AbortSignal.timeout(ms), lifetime.signal, ...(signal ? [signal] : [])]),
    background,
    every,
    after,
  };
}

import { setMaxListeners } from 'node:events';
import { Interruption } from './interruption.ts';

// setTimeout fires at once beyond 2^31-1 ms (24.8 days); longer deadlines are as good as none here.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A child of `parent` that also aborts after `ms` with an Interruption carrying `message`. `clear` must be
 * called when the guarded work ends, to drop the timer and the listener.
 */
export function withDeadline(parent: AbortSignal, ms: number | undefined, message: string): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  // The guarded work (a pod's containers, their processes and waits) may listen many times at once.
  setMaxListeners(0, controller.signal);
  const follow = () => controller.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  const timer = ms !== undefined && ms <= MAX_TIMER_MS ? setTimeout(() => controller.abort(new Interruption(message)), ms) : undefined;
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', follow);
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

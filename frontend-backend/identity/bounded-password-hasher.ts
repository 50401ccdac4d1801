import { InvalidInputError, TooManyRequestsError } from '../../core/index.ts';
import type { PasswordHasher } from './password-hash.ts';

export interface BoundedPasswordHasherOptions {
  /** Hashes computed at once (default 2). */
  concurrency?: number;
  /** Hashes that may wait for a free slot (default 32); one more is refused. */
  maxQueue?: number;
  /** The `Retry-After` of a refusal, in seconds (default 1). */
  retryAfterSeconds?: number;
}

export const PASSWORD_HASHING_DEFAULTS = { concurrency: 2, maxQueue: 32, retryAfterSeconds: 1 } as const;

function integerAtLeast(value: number, path: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidInputError(`invalid ${path}: must be an integer of at least ${min}`, [{ path, message: `must be an integer of at least ${min}` }]);
  }
  return value;
}

/**
 * Wraps a hasher so that at most `concurrency` hashes run at once (default 2) and at most `maxQueue`
 * wait for a slot (default 32), first come first served. A hash asked for when the queue is full is
 * refused at once with a `TooManyRequestsError` (HTTP 429, `Retry-After: 1`) instead of waiting: a
 * flood of logins then holds 2 × 32 MiB and two of libuv's four threads, not gigabytes and every
 * thread, and the node keeps answering everything else. A waiter whose signal aborts leaves the queue
 * and its hash is never computed; a hash already running is not interrupted.
 *
 * 429 rather than 503: the node is well, only busy with passwords, and load balancers count 503s
 * against a backend's health.
 */
export function createBoundedPasswordHasher(hasher: PasswordHasher, options: BoundedPasswordHasherOptions = {}): PasswordHasher {
  const concurrency = integerAtLeast(options.concurrency ?? PASSWORD_HASHING_DEFAULTS.concurrency, 'concurrency', 1);
  const maxQueue = integerAtLeast(options.maxQueue ?? PASSWORD_HASHING_DEFAULTS.maxQueue, 'maxQueue', 0);
  const retryAfterSeconds = integerAtLeast(options.retryAfterSeconds ?? PASSWORD_HASHING_DEFAULTS.retryAfterSeconds, 'retryAfterSeconds', 1);
  let running = 0;
  const waiting: (() => void)[] = [];

  function slot(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (running < concurrency) {
      running++;
      return Promise.resolve();
    }
    if (waiting.length >= maxQueue) {
      return Promise.reject(
        new TooManyRequestsError('the node is checking too many passwords at once: try again shortly', { retryAfterSeconds }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        waiting.splice(waiting.indexOf(granted), 1);
        reject(signal!.reason);
      };
      // A released slot passes straight to the next waiter: `running` stays as it is.
      const granted = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      waiting.push(granted);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function release() {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }

  async function bounded<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await slot(signal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  return {
    hash: (password, signal) => bounded(() => hasher.hash(password, signal), signal),
    verify: (password, stored, signal) => bounded(() => hasher.verify(password, stored, signal), signal),
  };
}

import { describe, expect, it } from 'vitest';
import { InvalidInputError, TooManyRequestsError } from '../../core/index.ts';
import { createBoundedPasswordHasher } from './bounded-password-hasher.ts';
import { scryptPasswordHasher, type PasswordHasher } from './password-hash.ts';

/** A hasher whose checks wait until the test lets them finish, counting how many run at once. */
function heldHasher() {
  const held: (() => void)[] = [];
  const started: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const hold = async <T>(label: string, value: T): Promise<T> => {
    started.push(label);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((resolve) => held.push(resolve));
    running--;
    return value;
  };
  const hasher: PasswordHasher = {
    hash: (password) => hold(password, `hash-of-${password}`),
    verify: (password) => hold(password, password === 'right'),
  };
  return {
    hasher,
    started,
    get maxRunning() {
      return maxRunning;
    },
    /** Lets the oldest running check finish. */
    finishOne: async () => {
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('bounded password hasher', () => {
  it('runs at most `concurrency` hashes at once and the rest in the order they came', async () => {
    const inner = heldHasher();
    const hasher = createBoundedPasswordHasher(inner.hasher, { concurrency: 2, maxQueue: 10 });
    const results = ['a', 'b', 'c', 'd', 'right'].map((p) => hasher.verify(p, 'stored'));
    await tick();
    expect(inner.started).toEqual(['a', 'b']);
    await inner.finishOne();
    expect(inner.started).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < 4; i++) await inner.finishOne();
    expect(await Promise.all(results)).toEqual([false, false, false, false, true]);
    expect(inner.maxRunning).toBe(2);
    const hashed = hasher.hash('x');
    await tick();
    await inner.finishOne();
    expect(await hashed).toBe('hash-of-x');
  });

  it('refuses a hash at once, with a retry hint, when the queue is full', async () => {
    const inner = heldHasher();
    const hasher = createBoundedPasswordHasher(inner.hasher, { concurrency: 1, maxQueue: 2 });
    const admitted = [hasher.verify('a', 's'), hasher.verify('b', 's'), hasher.hash('c')];
    const refused = hasher.verify('d', 's');
    await expect(refused).rejects.toThrow(TooManyRequestsError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 1, kind: 'too-many-requests' });
    for (let i = 0; i < 3; i++) await inner.finishOne();
    await Promise.all(admitted);
    expect(inner.started).toEqual(['a', 'b', 'c']);
  });

  it('drops a waiter whose signal aborts, without computing its hash', async () => {
    const inner = heldHasher();
    const hasher = createBoundedPasswordHasher(inner.hasher, { concurrency: 1, maxQueue: 2 });
    const first = hasher.verify('a', 's');
    const gone = new AbortController();
    const abandoned = hasher.verify('b', 's', gone.signal);
    const next = hasher.verify('c', 's');
    gone.abort(new Error('client went away'));
    await expect(abandoned).rejects.toThrow('client went away');
    await inner.finishOne();
    await inner.finishOne();
    await Promise.all([first, next]);
    expect(inner.started).toEqual(['a', 'c']);
    await expect(hasher.verify('d', 's', gone.signal)).rejects.toThrow('client went away');
  });

  it('wraps the real scrypt hasher unchanged', async () => {
    const hasher = createBoundedPasswordHasher(scryptPasswordHasher);
    const stored = await hasher.hash('correct horse');
    expect(await hasher.verify('correct horse', stored)).toBe(true);
    expect(await hasher.verify('wrong horse', stored)).toBe(false);
  });

  it('refuses bounds that cannot work', () => {
    expect(() => createBoundedPasswordHasher(scryptPasswordHasher, { concurrency: 0 })).toThrow(InvalidInputError);
    expect(() => createBoundedPasswordHasher(scryptPasswordHasher, { maxQueue: 1.5 })).toThrow(/maxQueue/);
  });
});

import { describe, expect, it } from 'vitest';
import { InsufficientCapacityError, createResourceScheduler } from './resource-scheduler.ts';

describe('resource scheduler', () => {
  it('admits requests while they fit, then as resources are released', async () => {
    const scheduler = createResourceScheduler({ cores: 2, memoryMiB: 1000 });
    const first = await scheduler.acquire({ cpu: 1.5, memoryMiB: 100 });
    let waited = false;
    const second = scheduler.acquire({ cpu: 1, memoryMiB: 100 }, { onWait: () => (waited = true) });
    // A smaller request that fits is not held back by the waiting one.
    const small = await scheduler.acquire({ cpu: 0.5, memoryMiB: 900 });
    expect(waited).toBe(true);
    expect(scheduler.inUse()).toEqual({ cpu: 2, memoryMiB: 1000 });
    first();
    small();
    const release = await second;
    expect(scheduler.inUse()).toEqual({ cpu: 1, memoryMiB: 100 });
    release();
    release(); // idempotent
    expect(scheduler.inUse()).toEqual({ cpu: 0, memoryMiB: 0 });
  });

  it('refuses a request larger than the machine, and stops waiting when aborted', async () => {
    const scheduler = createResourceScheduler({ cores: 1, memoryMiB: 100 });
    await expect(scheduler.acquire({ cpu: 2, memoryMiB: 1 })).rejects.toBeInstanceOf(InsufficientCapacityError);
    const hold = await scheduler.acquire({ cpu: 1, memoryMiB: 1 });
    const controller = new AbortController();
    const waiting = scheduler.acquire({ cpu: 1, memoryMiB: 1 }, { signal: controller.signal });
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    hold();
    expect(scheduler.inUse()).toEqual({ cpu: 0, memoryMiB: 0 });
  });
});

/**
 * Polls `check` until it returns without throwing (its value is returned), or fails with the last
 * error once `timeoutMs` has passed. For waiting on things that converge (a federation, a watch):
 * a deadline, never a fixed sleep.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`still failing after ${timeoutMs} ms: ${reason}`, { cause: error });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Catches the use of the database object (instead of the transaction's executor) inside a transaction.
 * On PGlite, which has one connection, that call would wait for the transaction to end: a deadlock. On
 * PostgreSQL it would run outside the transaction, or wait on the transaction's own row locks. Either way
 * it is a bug, so both adapters reject it at once.
 */
export interface TransactionGuard {
  /** Runs the transaction's work, marked as inside this database's transaction. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Throws when called from the work of one of this database's running transactions. */
  assertOutside(): void;
}

export function createTransactionGuard(): TransactionGuard {
  const storage = new AsyncLocalStorage<{ open: boolean }>();
  return {
    async run(work) {
      // Cleared when the transaction ends, so that a task the work left running may use the database later.
      const scope = { open: true };
      try {
        return await storage.run(scope, work);
      } finally {
        scope.open = false;
      }
    },
    assertOutside() {
      if (storage.getStore()?.open) {
        throw new Error(
          'database used directly inside one of its own transactions: run queries through the transaction executor (nested transactions are not supported)',
        );
      }
    },
  };
}

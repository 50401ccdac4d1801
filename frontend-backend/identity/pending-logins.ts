import { systemClock, type Clock } from '../../core/index.ts';

/** What a sign-in started with and must finish with: kept on the node, never sent to the browser. */
export interface PendingLogin {
  codeVerifier: string;
  nonce: string;
  /** The portal path to go back to once signed in. */
  returnPath: string;
}

export interface PendingLoginsOptions {
  clock?: Clock;
  /** How long a started sign-in may take (default 10 minutes). */
  ttlMs?: number;
  /** The most kept at once (default 10,000); past it the oldest is dropped. */
  max?: number;
}

/** Sign-ins under way, keyed by their `state`. */
export interface PendingLogins {
  add(state: string, login: PendingLogin): void;
  /** The sign-in started with `state`, once: a second take, or one after it expired, finds nothing. */
  take(state: string): PendingLogin | undefined;
  readonly size: number;
}

export const PENDING_LOGIN_DEFAULTS = { ttlMs: 10 * 60 * 1000, max: 10_000 } as const;

/**
 * Sign-ins under way, in this process's memory: a node restart forgets them (users start again), and nodes
 * behind one load balancer need it to send the callback where the sign-in started. All entries live as
 * long, so insertion order is expiry order: expired ones are dropped from the front as new ones come.
 */
export function createPendingLogins(options: PendingLoginsOptions = {}): PendingLogins {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? PENDING_LOGIN_DEFAULTS.ttlMs;
  const max = options.max ?? PENDING_LOGIN_DEFAULTS.max;
  const entries = new Map<string, PendingLogin & { expiresAt: number }>();

  const dropExpired = (now: number) => {
    for (const [state, entry] of entries) {
      if (entry.expiresAt > now) break;
      entries.delete(state);
    }
  };

  return {
    add(state, login) {
      const now = clock.now().getTime();
      dropExpired(now);
      while (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(state, { ...login, expiresAt: now + ttlMs });
    },
    take(state) {
      const entry = entries.get(state);
      if (!entry) return undefined;
      entries.delete(state);
      if (entry.expiresAt <= clock.now().getTime()) return undefined;
      const { expiresAt: _expiresAt, ...login } = entry;
      return login;
    },
    get size() {
      return entries.size;
    },
  };
}

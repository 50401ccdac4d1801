import { isIPv6 } from 'node:net';
import { InvalidInputError, systemClock, TooManyRequestsError, type Clock } from '../../core/index.ts';

/** A token bucket: `burst` attempts at once, then one more every `perMs / burst`. */
export interface RateLimit {
  burst: number;
  /** The time a spent burst takes to come back in full. */
  perMs: number;
}

export interface LoginThrottlePolicy {
  /** Every attempt from one client address (an IPv6 address: its /64), whatever the user name. */
  perAddress: RateLimit;
  /** Failed attempts for one user name from one address; her successful login there forgets them. */
  perUserAndAddress: RateLimit;
  /** Failed attempts for one user name from every address together; addresses she is trusted from are exempt. */
  perUser: RateLimit;
  /** How long a successful login trusts its address for that user (exempt from `perUser`). */
  trustedForMs: number;
  /** Entries each table keeps (addresses, pairs, user names, trusted pairs); the least recently used go first. */
  maxEntries: number;
}

const MINUTE = 60_000;

/** The numbers documented on `createLoginThrottle` and in docs/api.md. */
export const LOGIN_THROTTLE_DEFAULTS: Readonly<LoginThrottlePolicy> = Object.freeze({
  perAddress: Object.freeze({ burst: 30, perMs: MINUTE }),
  perUserAndAddress: Object.freeze({ burst: 5, perMs: 15 * MINUTE }),
  perUser: Object.freeze({ burst: 50, perMs: 60 * MINUTE }),
  trustedForMs: 30 * 24 * 60 * MINUTE,
  maxEntries: 10_000,
});

export interface LoginThrottleOptions extends Partial<LoginThrottlePolicy> {
  clock?: Clock;
}

/** One admitted attempt; say once how it ended. */
export interface LoginAttempt {
  /** The password was right: the failures of this user from this address are forgotten, the address trusted. */
  succeeded(): void;
  /** The password was wrong (or the user unknown): the attempt stays counted. */
  failed(): void;
  /** No password was checked (the node was too busy, the caller went away): the attempt is given back. */
  untested(): void;
}

export interface LoginThrottle {
  /**
   * Counts an attempt by `user` from `clientAddress` (undefined: all such callers share one address), or
   * throws a `TooManyRequestsError` carrying the seconds until it would be admitted, counting nothing.
   */
  admit(user: string, clientAddress: string | undefined): LoginAttempt;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Token buckets by key, at most `maxEntries` of them; a key without a bucket has a full one. */
function bucketTable(limit: RateLimit, maxEntries: number) {
  const refillMs = limit.perMs / limit.burst;
  const buckets = new Map<string, Bucket>();
  const current = (key: string, nowMs: number): Bucket => {
    const bucket = buckets.get(key);
    if (!bucket) return { tokens: limit.burst, atMs: nowMs };
    return { tokens: Math.min(limit.burst, bucket.tokens + Math.max(0, nowMs - bucket.atMs) / refillMs), atMs: nowMs };
  };
  const store = (key: string, bucket: Bucket) => {
    buckets.delete(key);
    if (bucket.tokens >= limit.burst) return; // Full: the same as none.
    buckets.set(key, bucket);
    if (buckets.size > maxEntries) buckets.delete(buckets.keys().next().value!);
  };
  return {
    /** Milliseconds until the key has an attempt left; 0 if it has one now. */
    waitMs(key: string, nowMs: number): number {
      const { tokens } = current(key, nowMs);
      return tokens >= 1 ? 0 : (1 - tokens) * refillMs;
    },
    take(key: string, nowMs: number) {
      const bucket = current(key, nowMs);
      store(key, { ...bucket, tokens: bucket.tokens - 1 });
    },
    give(key: string, nowMs: number) {
      const bucket = current(key, nowMs);
      store(key, { ...bucket, tokens: Math.min(limit.burst, bucket.tokens + 1) });
    },
    forget(key: string) {
      buckets.delete(key);
    },
  };
}

/** The key an address is counted under: an IPv6 address by its /64 (one host usually holds a whole /64). */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped) return mapped[1]!;
  if (!isIPv6(bare)) return bare;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const all = [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

function validLimit(limit: RateLimit, path: string): RateLimit {
  if (!Number.isInteger(limit.burst) || limit.burst < 1 || !Number.isFinite(limit.perMs) || limit.perMs <= 0) {
    throw new InvalidInputError(`invalid login limit ${path}: burst must be an integer of at least 1 and perMs positive`, [
      { path, message: 'burst must be an integer of at least 1 and perMs positive' },
    ]);
  }
  return limit;
}

/**
 * Limits on login attempts, checked before any password is hashed. Three token buckets must each have an
 * attempt left; an admitted attempt takes one from each, so concurrent attempts cannot slip past:
 *
 * - per client address (IPv6: per /64), every attempt: 30 at once, then one every 2 s (30 a minute);
 * - per (user name, address), failures: 5, then one every 3 min (5 per 15 minutes). A successful login
 *   forgets them. Another address's wrong passwords never lock a user out of her own address;
 * - per user name, failures from all addresses together: 50, then one every 72 s (50 an hour), against
 *   guessing spread over many addresses. An address the user logged in from in the last 30 days is
 *   exempt, so such an attack locks her out only of addresses she has not used lately.
 *
 * A refused attempt counts nothing and answers `TooManyRequestsError` with the seconds until it would be
 * admitted. Unknown user names are counted like known ones (no oracle). Time comes from the injected
 * clock; every table keeps at most 10,000 entries, dropping the least recently used. State is in memory,
 * per process: a restart forgets it, and nodes sharing a database count separately.
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const clock = options.clock ?? systemClock;
  const policy: LoginThrottlePolicy = {
    perAddress: validLimit(options.perAddress ?? LOGIN_THROTTLE_DEFAULTS.perAddress, 'perAddress'),
    perUserAndAddress: validLimit(options.perUserAndAddress ?? LOGIN_THROTTLE_DEFAULTS.perUserAndAddress, 'perUserAndAddress'),
    perUser: validLimit(options.perUser ?? LOGIN_THROTTLE_DEFAULTS.perUser, 'perUser'),
    trustedForMs: options.trustedForMs ?? LOGIN_THROTTLE_DEFAULTS.trustedForMs,
    maxEntries: options.maxEntries ?? LOGIN_THROTTLE_DEFAULTS.maxEntries,
  };
  if (!(policy.trustedForMs >= 0) || !Number.isInteger(policy.maxEntries) || policy.maxEntries < 1) {
    throw new InvalidInputError('invalid login limits: trustedForMs must be at least 0 and maxEntries an integer of at least 1', [
      { path: 'trustedForMs', message: 'must be at least 0' },
      { path: 'maxEntries', message: 'must be an integer of at least 1' },
    ]);
  }
  const addresses = bucketTable(policy.perAddress, policy.maxEntries);
  const pairs = bucketTable(policy.perUserAndAddress, policy.maxEntries);
  const users = bucketTable(policy.perUser, policy.maxEntries);
  /** Pair key → until when (ms) the pair is exempt from the per-user limit. */
  const trusted = new Map<string, number>();

  const isTrusted = (pair: string, nowMs: number) => {
    const until = trusted.get(pair);
    if (until === undefined) return false;
    if (until > nowMs) return true;
    trusted.delete(pair);
    return false;
  };
  const trust = (pair: string, nowMs: number) => {
    trusted.delete(pair);
    trusted.set(pair, nowMs + policy.trustedForMs);
    if (trusted.size > policy.maxEntries) trusted.delete(trusted.keys().next().value!);
  };

  return {
    admit(user, clientAddress) {
      const nowMs = clock.now().getTime();
      const address = addressKey(clientAddress);
      const pair = JSON.stringify([user, address]);
      const exempt = isTrusted(pair, nowMs);
      const waits: [number, string][] = [
        [addresses.waitMs(address, nowMs), 'too many login attempts from this address'],
        [pairs.waitMs(pair, nowMs), 'too many failed logins for this user from this address'],
        [exempt ? 0 : users.waitMs(user, nowMs), 'too many failed logins for this user'],
      ];
      const [waitMs, reason] = waits.reduce((longest, wait) => (wait[0] > longest[0] ? wait : longest));
      if (waitMs > 0) {
        const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
        throw new TooManyRequestsError(`${reason}: try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
      }
      addresses.take(address, nowMs);
      pairs.take(pair, nowMs);
      if (!exempt) users.take(user, nowMs);

      let settled = false;
      const settle = (effect: (nowMs: number) => void) => () => {
        if (settled) return;
        settled = true;
        effect(clock.now().getTime());
      };
      return {
        succeeded: settle((at) => {
          pairs.forget(pair);
          if (!exempt) users.give(user, at);
          trust(pair, at);
        }),
        failed: settle(() => {}),
        untested: settle((at) => {
          addresses.give(address, at);
          pairs.give(pair, at);
          if (!exempt) users.give(user, at);
        }),
      };
    },
  };
}

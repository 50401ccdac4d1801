import { describe, expect, it } from 'vitest';
import { InvalidInputError, TooManyRequestsError } from '../../core/index.ts';
import { ManualClock } from '../../tests/support/manual-clock.ts';
import { addressKey, createLoginThrottle, LOGIN_THROTTLE_DEFAULTS, type LoginThrottleOptions } from './login-throttle.ts';

const MINUTE = 60_000;

function setup(options: Omit<LoginThrottleOptions, 'clock'> = {}) {
  const clock = new ManualClock();
  const throttle = createLoginThrottle({ ...options, clock });
  /** An attempt that ends as `outcome`, or the refusal it got. */
  const attempt = (user: string, address: string | undefined, outcome: 'failed' | 'succeeded' | 'untested' = 'failed') => {
    try {
      throttle.admit(user, address)[outcome]();
      return 'admitted';
    } catch (error) {
      if (error instanceof TooManyRequestsError) return error;
      throw error;
    }
  };
  return { clock, throttle, attempt };
}

describe('login throttle', () => {
  it('refuses the sixth failure of a user from one address within 15 minutes, then admits one every 3 minutes', () => {
    const { clock, attempt } = setup();
    for (let i = 0; i < 5; i++) expect(attempt('alice', '192.0.2.1')).toBe('admitted');
    const refused = attempt('alice', '192.0.2.1');
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    expect(refused).toMatchObject({
      retryAfterSeconds: 180,
      retryable: true,
      kind: 'too-many-requests',
      message: 'too many failed logins for this user from this address: try again in 180 s',
      details: { retryAfterSeconds: 180 },
    });

    clock.advance(3 * MINUTE - 1000);
    expect(attempt('alice', '192.0.2.1')).toMatchObject({ retryAfterSeconds: 1 });
    clock.advance(1000);
    expect(attempt('alice', '192.0.2.1')).toBe('admitted');
    expect(attempt('alice', '192.0.2.1')).toMatchObject({ retryAfterSeconds: 180 });
    clock.advance(15 * MINUTE);
    for (let i = 0; i < 5; i++) expect(attempt('alice', '192.0.2.1')).toBe('admitted');
  });

  it("does not let one address's failures lock the user out of another address", () => {
    const { attempt } = setup();
    for (let i = 0; i < 5; i++) attempt('alice', '198.51.100.66');
    expect(attempt('alice', '198.51.100.66')).toBeInstanceOf(TooManyRequestsError);
    expect(attempt('alice', '192.0.2.1', 'succeeded')).toBe('admitted');
    // Other users from the attacker's address are only subject to the address's own limit.
    expect(attempt('bob', '198.51.100.66')).toBe('admitted');
  });

  it("forgets a pair's failures when the user logs in there", () => {
    const { attempt } = setup();
    for (let i = 0; i < 4; i++) attempt('alice', '192.0.2.1');
    expect(attempt('alice', '192.0.2.1', 'succeeded')).toBe('admitted');
    for (let i = 0; i < 5; i++) expect(attempt('alice', '192.0.2.1')).toBe('admitted');
    expect(attempt('alice', '192.0.2.1')).toBeInstanceOf(TooManyRequestsError);
  });

  it('counts every attempt from an address, successes and other user names included: 30, then one every 2 s', () => {
    const { clock, attempt } = setup();
    for (let i = 0; i < 30; i++) expect(attempt(`user${i}`, '192.0.2.1', i % 2 ? 'succeeded' : 'failed')).toBe('admitted');
    expect(attempt('someone', '192.0.2.1', 'succeeded')).toMatchObject({
      retryAfterSeconds: 2,
      message: 'too many login attempts from this address: try again in 2 s',
    });
    expect(attempt('someone', '192.0.2.2')).toBe('admitted');
    clock.advance(2000);
    expect(attempt('someone', '192.0.2.1')).toBe('admitted');
  });

  it('caps failures for a user across addresses, except from addresses she logged in from', () => {
    const { clock, attempt } = setup();
    expect(attempt('alice', '192.0.2.1', 'succeeded')).toBe('admitted');
    // 50 failures spread over 10 addresses, 5 each: no single pair is over its limit.
    for (let a = 0; a < 10; a++) for (let i = 0; i < 5; i++) expect(attempt('alice', `198.51.100.${a}`)).toBe('admitted');
    expect(attempt('alice', '203.0.113.1')).toMatchObject({
      retryAfterSeconds: 72,
      message: 'too many failed logins for this user: try again in 72 s',
    });
    expect(attempt('alice', '192.0.2.1', 'succeeded')).toBe('admitted');
    expect(attempt('bob', '203.0.113.1')).toBe('admitted');
    // Trust lasts 30 days from the last successful login there.
    clock.advance(30 * 24 * 60 * MINUTE);
    for (let a = 10; a < 20; a++) for (let i = 0; i < 5; i++) attempt('alice', `198.51.100.${a}`);
    expect(attempt('alice', '192.0.2.1')).toBeInstanceOf(TooManyRequestsError);
  });

  it('gives back an attempt whose password was never checked', () => {
    const { attempt } = setup();
    for (let i = 0; i < 20; i++) expect(attempt('alice', '192.0.2.1', 'untested')).toBe('admitted');
    for (let i = 0; i < 5; i++) expect(attempt('alice', '192.0.2.1')).toBe('admitted');
    expect(attempt('alice', '192.0.2.1')).toBeInstanceOf(TooManyRequestsError);
  });

  it('counts an attempt when it is admitted, so concurrent attempts cannot all slip past', () => {
    const { throttle } = setup();
    const pending = Array.from({ length: 5 }, () => throttle.admit('alice', '192.0.2.1'));
    expect(() => throttle.admit('alice', '192.0.2.1')).toThrow(TooManyRequestsError);
    for (const attempt of pending) attempt.failed();
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey(undefined)).toBe('unknown');

    const { attempt } = setup();
    for (let i = 0; i < 5; i++) attempt('alice', `2001:db8:1:2::${i + 1}`);
    expect(attempt('alice', '2001:db8:1:2:ffff::1')).toBeInstanceOf(TooManyRequestsError);
    expect(attempt('alice', '2001:db8:1:3::1')).toBe('admitted');
  });

  it('keeps at most maxEntries per table, dropping the least recently used', () => {
    const { attempt } = setup({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) attempt('alice', '192.0.2.1');
    expect(attempt('alice', '192.0.2.1')).toBeInstanceOf(TooManyRequestsError);
    for (let a = 2; a <= 4; a++) attempt('bob', `192.0.2.${a}`);
    expect(attempt('alice', '192.0.2.1')).toBe('admitted');
  });

  it('refuses a policy that cannot work, naming the setting', () => {
    expect(() => createLoginThrottle({ perUser: { burst: 0, perMs: MINUTE } })).toThrow(InvalidInputError);
    expect(() => createLoginThrottle({ perAddress: { burst: 5, perMs: Number.NaN } })).toThrow(/perAddress/);
    expect(() => createLoginThrottle({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(LOGIN_THROTTLE_DEFAULTS).toMatchObject({ perUserAndAddress: { burst: 5, perMs: 15 * MINUTE } });
  });
});

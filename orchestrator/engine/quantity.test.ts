import { describe, expect, it } from 'vitest';
import { parseCpu, parseDurationMs, parseMemoryMiB } from './quantity.ts';

describe('quantities', () => {
  it('parses CPU in cores', () => {
    expect(parseCpu('2')).toBe(2);
    expect(parseCpu('500m')).toBe(0.5);
    expect(parseCpu('0.25')).toBe(0.25);
    expect(parseCpu(3)).toBe(3);
    expect(() => parseCpu('two')).toThrow("invalid cpu quantity 'two'");
  });

  it('parses memory in MiB', () => {
    expect(parseMemoryMiB('256Mi')).toBe(256);
    expect(parseMemoryMiB('1Gi')).toBe(1024);
    expect(parseMemoryMiB('1G')).toBeCloseTo(953.67, 2);
    expect(parseMemoryMiB('500M')).toBeCloseTo(476.84, 2);
    expect(parseMemoryMiB(String(2 ** 20))).toBe(1);
    expect(parseMemoryMiB('1e9')).toBeCloseTo(953.67, 2);
    expect(() => parseMemoryMiB('1 GB')).toThrow('invalid memory quantity');
  });

  it('parses durations in milliseconds', () => {
    expect(parseDurationMs(5)).toBe(5000);
    expect(parseDurationMs('5')).toBe(5000);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(() => parseDurationMs('soon')).toThrow("invalid duration 'soon'");
  });
});

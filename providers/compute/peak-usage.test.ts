import { describe, expect, it } from 'vitest';
import { peakUsage, type Holding } from './peak-usage.ts';

const h = (start: number, end: number, millicores: number, memoryMiB = 0, gpus = 0): Holding => ({ start, end, millicores, memoryMiB, gpus });

describe('peakUsage', () => {
  it('is zero without holdings', () => {
    expect(peakUsage([], 0, 10)).toEqual({ millicores: 0, memoryMiB: 0, gpus: 0 });
  });

  it('adds holdings that overlap at some instant, and only those', () => {
    // [0,5) and [3,8) overlap on [3,5); [8,10) touches [3,8) without overlapping.
    expect(peakUsage([h(0, 5, 1000), h(3, 8, 2000), h(8, 10, 2500)], 0, 10).millicores).toBe(3000);
  });

  it('treats windows as half-open: one ending at t and one starting at t never add up', () => {
    expect(peakUsage([h(0, 5, 4000), h(5, 10, 4000)], 0, 10).millicores).toBe(4000);
  });

  it('counts only what lies inside the window', () => {
    const holdings = [h(0, 5, 4000), h(4, 6, 1000), h(6, 9, 3000)];
    expect(peakUsage(holdings, 5, 6).millicores).toBe(1000);
    expect(peakUsage(holdings, 10, 20).millicores).toBe(0);
    expect(peakUsage(holdings, 5, 7).millicores).toBe(3000);
  });

  it('finds each resource’s own peak, even at different instants', () => {
    const peak = peakUsage([h(0, 2, 3000, 100, 0), h(2, 4, 1000, 900, 2), h(3, 5, 0, 50, 1)], 0, 5);
    expect(peak).toEqual({ millicores: 3000, memoryMiB: 950, gpus: 3 });
  });

  it('agrees with a brute-force sum at every millisecond', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 50; round++) {
      const holdings = Array.from({ length: 12 }, () => {
        const start = random(40);
        return h(start, start + 1 + random(15), random(4000), random(100), random(3));
      });
      const from = random(30);
      const to = from + 1 + random(25);
      const brute = { millicores: 0, memoryMiB: 0, gpus: 0 };
      for (let t = from; t < to; t++) {
        const at = holdings.filter((x) => x.start <= t && t < x.end);
        brute.millicores = Math.max(brute.millicores, at.reduce((s, x) => s + x.millicores, 0));
        brute.memoryMiB = Math.max(brute.memoryMiB, at.reduce((s, x) => s + x.memoryMiB, 0));
        brute.gpus = Math.max(brute.gpus, at.reduce((s, x) => s + x.gpus, 0));
      }
      expect(peakUsage(holdings, from, to)).toEqual(brute);
    }
  });
});

import { ZERO_UNITS, type ResourceUnits } from './compute-resources.ts';

/** A holding of resources over the half-open window [start, end), times in epoch milliseconds. */
export interface Holding extends ResourceUnits {
  start: number;
  end: number;
}

/**
 * The most of each resource held at any one instant of [start, end) by the given holdings. Usage is
 * piecewise constant and only rises where a holding starts, so the peak of each resource is reached at
 * the window's start or at the start of a holding inside it: a sweep over those breakpoints, ends
 * before starts at equal times (a holding that ends at t no longer holds anything at t). Each resource
 * peaks on its own: a request fits if, for every resource, its peak plus the request is within capacity.
 */
export function peakUsage(holdings: readonly Holding[], start: number, end: number): ResourceUnits {
  const events: { at: number; sign: 1 | -1; units: ResourceUnits }[] = [];
  for (const h of holdings) {
    const from = Math.max(h.start, start);
    const to = Math.min(h.end, end);
    if (from >= to) continue; // outside the window
    events.push({ at: from, sign: 1, units: h }, { at: to, sign: -1, units: h });
  }
  events.sort((a, b) => a.at - b.at || a.sign - b.sign);

  const current = { ...ZERO_UNITS };
  const peak = { ...ZERO_UNITS };
  let i = 0;
  while (i < events.length) {
    const at = events[i]!.at;
    for (; i < events.length && events[i]!.at === at; i++) {
      const { sign, units } = events[i]!;
      current.millicores += sign * units.millicores;
      current.memoryMiB += sign * units.memoryMiB;
      current.gpus += sign * units.gpus;
    }
    if (at >= end) break;
    peak.millicores = Math.max(peak.millicores, current.millicores);
    peak.memoryMiB = Math.max(peak.memoryMiB, current.memoryMiB);
    peak.gpus = Math.max(peak.gpus, current.gpus);
  }
  return peak;
}

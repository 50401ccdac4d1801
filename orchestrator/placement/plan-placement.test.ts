import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/index.ts';
import { seededRandom } from '../../tests/support/seeded-random.ts';
import { planPlacement, type PlacementCluster, type PlacementStep, type PlacementWeights } from './plan-placement.ts';

/** A federation of this cluster and up to five peers, and a chain-and-fan workflow of up to eight steps. */
function federation(seed: number) {
  const r = seededRandom(seed);
  const clusters: PlacementCluster[] = [];
  const peers = 1 + r.int(5);
  for (let i = 0; i <= peers; i++) {
    clusters.push({
      id: i === 0 ? 'local' : `peer${i}`,
      local: i === 0,
      peered: i === 0 || r.next() > 0.2,
      reachable: i === 0 || r.next() > 0.15,
      free: { cores: r.int(17), memoryMiB: r.int(65) * 512, gpus: r.next() > 0.7 ? r.int(5) : 0 },
      ...(r.next() > 0.3 ? { price: { coreHour: r.next(), memoryGiBHour: r.next() / 10, gpuHour: 1 + r.next() * 3 } } : {}),
    });
  }
  const ids = clusters.map((c) => c.id);
  const steps: PlacementStep[] = [];
  const count = 1 + r.int(8);
  for (let i = 0; i < count; i++) {
    const earlier = steps.filter(() => r.next() > 0.5).map((s) => ({ step: s.step, bytes: r.int(1_000_000) }));
    steps.push({
      step: `s${i}`,
      requests: { cores: 1 + r.int(8), memoryMiB: (1 + r.int(32)) * 256, gpus: r.next() > 0.8 ? 1 + r.int(2) : 0 },
      reads: r.next() > 0.5 ? [{ cluster: r.pick(ids), bytes: r.int(10_000_000) }] : [],
      after: earlier,
      ...(r.next() > 0.85 ? { pin: r.pick(ids) } : {}),
      ...(r.next() > 0.8 ? { avoid: [r.pick(ids)] } : {}),
      ...(r.next() > 0.9 ? { serviceCluster: r.pick(ids) } : {}),
    });
  }
  return { clusters, steps };
}

/** Whether a cluster may run a step, decided here independently of the planner. */
function eligible(step: PlacementStep, c: PlacementCluster): boolean {
  return (
    (step.pin === undefined || step.pin === c.id) &&
    !(step.avoid ?? []).includes(c.id) &&
    (step.serviceCluster === undefined || step.serviceCluster === c.id) &&
    (c.local || (c.peered && c.reachable)) &&
    step.requests.cores <= c.free.cores &&
    step.requests.memoryMiB <= c.free.memoryMiB &&
    step.requests.gpus <= c.free.gpus
  );
}

const cost = (s: PlacementStep, c: PlacementCluster) => (c.price ? s.requests.cores * c.price.coreHour + (s.requests.memoryMiB / 1024) * c.price.memoryGiBHour + s.requests.gpus * c.price.gpuHour : 0);

function planOrError(input: Parameters<typeof planPlacement>[0]) {
  try {
    return { plan: planPlacement(input) };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { error };
  }
}

const SEEDS = Array.from({ length: 400 }, (_, i) => i + 1);

describe('the placement planner over generated federations', () => {
  it('places every step on a cluster that may run it, or names exactly the steps no cluster can run', () => {
    let planned = 0;
    let refused = 0;
    for (const seed of SEEDS) {
      const { clusters, steps } = federation(seed);
      const result = planOrError({ steps, clusters });
      const impossible = steps.filter((s) => !clusters.some((c) => eligible(s, c))).map((s) => s.step);
      if (result.error) {
        refused++;
        expect(result.error.issues.map((i) => i.path), `seed ${seed}`).toEqual(impossible.map((s) => `steps.${s}`));
        for (const s of impossible) expect(result.error.message).toContain(`step ${s} (asks for`);
        continue;
      }
      planned++;
      expect(impossible, `seed ${seed}`).toEqual([]);
      expect(result.plan.steps.map((p) => p.step)).toEqual(steps.map((s) => s.step));
      for (const placed of result.plan.steps) {
        const step = steps.find((s) => s.step === placed.step)!;
        const chosen = clusters.find((c) => c.id === placed.cluster)!;
        expect(eligible(step, chosen), `seed ${seed} step ${placed.step} on ${placed.cluster}`).toBe(true);
        // Every cluster is accounted for: the chosen one, the other candidates, or excluded with a reason.
        expect([placed.cluster, ...placed.alternatives.map((a) => a.cluster), ...placed.excluded.map((e) => e.cluster)].sort()).toEqual(clusters.map((c) => c.id).sort());
        for (const e of placed.excluded) expect(eligible(step, clusters.find((c) => c.id === e.cluster)!)).toBe(false);
        for (const a of placed.alternatives) expect(a.score).toBeLessThanOrEqual(placed.score);
        expect(placed.reasons.length).toBeGreaterThan(0);
        if (step.pin !== undefined) expect(placed.cluster).toBe(step.pin);
      }
    }
    // The generator makes both kinds of federation.
    expect(planned).toBeGreaterThan(40);
    expect(refused).toBeGreaterThan(40);
  });

  it('gives the same plan whatever order the clusters come in', () => {
    for (const seed of SEEDS.slice(0, 100)) {
      const { clusters, steps } = federation(seed);
      const once = planOrError({ steps, clusters });
      const again = planOrError({ steps, clusters: [...clusters].reverse() });
      expect(again.plan ?? again.error?.message, `seed ${seed}`).toEqual(once.plan ?? once.error?.message);
    }
  });

  it('with only data weighing, puts each step where most of the bytes it reads are', () => {
    const weights: PlacementWeights = { data: 1, capacity: 0, price: 0 };
    for (const seed of SEEDS) {
      const { clusters, steps } = federation(seed);
      const { plan } = planOrError({ steps, clusters, weights });
      if (!plan) continue;
      const where = new Map(plan.steps.map((p) => [p.step, p.cluster]));
      for (const placed of plan.steps) {
        const step = steps.find((s) => s.step === placed.step)!;
        const bytesAt = (id: string) => step.reads.filter((r) => r.cluster === id).reduce((a, r) => a + r.bytes, 0) + step.after.filter((a) => where.get(a.step) === id).reduce((a, x) => a + x.bytes, 0);
        const best = Math.max(...clusters.filter((c) => eligible(step, c)).map((c) => bytesAt(c.id)));
        expect(bytesAt(placed.cluster), `seed ${seed} step ${placed.step}`).toBe(best);
      }
    }
  });

  it('with only price weighing, puts each step on the cheapest cluster that may run it', () => {
    for (const seed of SEEDS) {
      const { clusters, steps } = federation(seed);
      const { plan } = planOrError({ steps, clusters, weights: { data: 0, capacity: 0, price: 1 } });
      if (!plan) continue;
      for (const placed of plan.steps) {
        const step = steps.find((s) => s.step === placed.step)!;
        const candidates = clusters.filter((c) => eligible(step, c));
        const cheapest = Math.min(...candidates.map((c) => cost(step, c)));
        // A cluster without a price list counts as free of charge (price 0): known prices only matter once all are known.
        expect(cost(step, clusters.find((c) => c.id === placed.cluster)!), `seed ${seed}`).toBeCloseTo(cheapest, 9);
      }
    }
  });
});

describe('the placement planner on a known federation', () => {
  const here: PlacementCluster = { id: 'A', local: true, peered: true, reachable: true, free: { cores: 8, memoryMiB: 16384, gpus: 0 } };
  const b: PlacementCluster = { id: 'B', name: 'bravo', local: false, peered: true, reachable: true, free: { cores: 4, memoryMiB: 8192, gpus: 0 } };
  const c: PlacementCluster = { id: 'C', name: 'charlie', local: false, peered: true, reachable: true, free: { cores: 32, memoryMiB: 131072, gpus: 4 } };
  const stranger: PlacementCluster = { id: 'D', local: false, peered: false, reachable: true, free: { cores: 1000, memoryMiB: 1e7, gpus: 100 } };
  const ask = { cores: 2, memoryMiB: 2048, gpus: 0 };

  it('runs a step where its data is, the next one where the previous wrote, a pinned one where pinned', () => {
    const plan = planPlacement({
      clusters: [here, b, c, stranger],
      steps: [
        { step: 'align', requests: ask, reads: [{ cluster: 'B', bytes: 5e9 }], after: [] },
        { step: 'sort', requests: ask, reads: [], after: [{ step: 'align', bytes: 1e9 }] },
        { step: 'report', requests: ask, reads: [], after: [{ step: 'sort', bytes: 1e6 }], pin: 'C' },
        { step: 'train', requests: { cores: 8, memoryMiB: 32768, gpus: 2 }, reads: [], after: [] },
      ],
    });
    expect(plan.steps.map((s) => [s.step, s.cluster])).toEqual([
      ['align', 'B'],
      ['sort', 'B'],
      ['report', 'C'],
      ['train', 'C'],
    ]);
    expect(plan.steps[0]!.reasons[0]).toBe('100% of the 5000000000 bytes it reads are there');
    expect(plan.steps[2]!.reasons[0]).toBe('pinned to charlie (C)');
    expect(plan.steps[2]!.excluded).toEqual([
      { cluster: 'A', why: 'the step is pinned to C' },
      { cluster: 'B', why: 'the step is pinned to C' },
      { cluster: 'D', why: 'the step is pinned to C' },
    ]);
    expect(plan.steps[3]!.excluded.find((e) => e.cluster === 'A')!.why).toBe('not enough free: 32768 MiB asked, 16384 free; 2 GPUs asked, 0 free');
    expect(plan.steps[3]!.excluded.find((e) => e.cluster === 'D')!.why).toBe('not peered');
  });

  it('weighs data entries of unknown size by number, and known bytes over them', () => {
    const entries = [
      { cluster: 'B', bytes: 0, entry: 'e1' },
      { cluster: 'B', bytes: 0, entry: 'e2' },
      { cluster: 'C', bytes: 0, entry: 'e3' },
    ];
    const plan = planPlacement({ clusters: [here, b, c], steps: [{ step: 'x', requests: ask, reads: entries, after: [] }] });
    expect(plan.steps[0]).toMatchObject({ cluster: 'B', reasons: ['2 of the 3 data entries it reads are there', expect.stringMatching(/^fits its/)] });
    const known = planPlacement({ clusters: [here, b, c], steps: [{ step: 'x', requests: ask, reads: [...entries, { cluster: 'A', bytes: 10 }], after: [] }] });
    expect(known.steps[0]!.cluster).toBe('A');
  });

  it('keeps a step without data here on a tie, and avoids what the user avoids', () => {
    const twin = { ...here, id: 'B', local: false };
    const plan = planPlacement({ clusters: [twin, here], steps: [{ step: 'x', requests: ask, reads: [], after: [] }] });
    expect(plan.steps[0]).toMatchObject({ cluster: 'A', alternatives: [{ cluster: 'B' }] });
    expect(plan.steps[0]!.reasons.at(-1)).toBe('a tie, kept on this cluster');
    const avoided = planPlacement({ clusters: [twin, here], steps: [{ step: 'x', requests: ask, reads: [], after: [], avoid: ['A'] }] });
    expect(avoided.steps[0]!.cluster).toBe('B');
  });

  it('refuses, naming the step and what it asked, when no cluster can run it', () => {
    const attempt = () =>
      planPlacement({ clusters: [here, b, stranger], steps: [{ step: 'huge', requests: { cores: 64, memoryMiB: 1024, gpus: 0 }, reads: [], after: [] }] });
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow('step huge (asks for 64 cores, 1024 MiB, 0 GPUs) fits no cluster: A: not enough free: 64 cores asked, 8 free; B: not enough free: 64 cores asked, 4 free; D: not peered');
  });
});

import { InvalidInputError } from '../../core/index.ts';

/** Resources a step asks for, or a cluster has free. */
export interface Resources {
  cores: number;
  memoryMiB: number;
  gpus: number;
}

/** What the planner knows of one tool step. */
export interface PlacementStep {
  /** The step path (`step`, or `outer/inner` inside a subworkflow step). */
  step: string;
  requests: Resources;
  /** Data it reads, by the cluster that holds it, in bytes (a data entry of unknown size: 0, with its id). */
  reads: { cluster: string; bytes: number; entry?: string }[];
  /** Earlier steps whose outputs it reads, and how many bytes (0 when not known yet). */
  after: { step: string; bytes: number }[];
  /** The only cluster its service may run on, when the service's provider restricts it. */
  serviceCluster?: string;
  /** The user's choice: run it on this cluster only, or never on these. */
  pin?: string;
  avoid?: string[];
}

/** One cluster as the planner sees it: this one, or a peer, with what it offers this cluster now. */
export interface PlacementCluster {
  id: string;
  name?: string;
  local: boolean;
  /** Peered with this cluster now (always true for this cluster). */
  peered: boolean;
  /** Reachable now (answered its compute status). */
  reachable: boolean;
  /** What it can give this cluster now: its free capacity within its quota for this cluster. */
  free: Resources;
  /** Price of an hour of a core, a GiB of memory and a GPU, in one currency (none: unknown). */
  price?: { coreHour: number; memoryGiBHour: number; gpuHour: number };
}

/** How much each preference counts; they are documented in docs/placement.md. */
export interface PlacementWeights {
  data: number;
  capacity: number;
  price: number;
}

/** Data first, then headroom; price counts once billing gives price lists. */
export const DEFAULT_WEIGHTS: PlacementWeights = { data: 0.7, capacity: 0.3, price: 0 };

export interface PlacedStep {
  step: string;
  cluster: string;
  /** Why this cluster: the deciding facts, in words, first the strongest. */
  reasons: string[];
  score: number;
  /** The other clusters that could run it, best first, and the clusters that could not, with why. */
  alternatives: { cluster: string; score: number }[];
  excluded: { cluster: string; why: string }[];
}

export interface PlacementPlan {
  steps: PlacedStep[];
}

const DIMENSIONS = ['cores', 'memoryMiB', 'gpus'] as const;
const UNITS: Record<(typeof DIMENSIONS)[number], string> = { cores: 'cores', memoryMiB: 'MiB', gpus: 'GPUs' };

const label = (c: PlacementCluster) => (c.local ? 'this cluster' : c.name ? `${c.name} (${c.id})` : c.id);
const round = (n: number) => Math.round(n * 1000) / 1000;

/** Why a cluster cannot run a step, or undefined when it can. */
function exclusion(step: PlacementStep, cluster: PlacementCluster): string | undefined {
  if (step.pin !== undefined && step.pin !== cluster.id) return `the step is pinned to ${step.pin}`;
  if (step.avoid?.includes(cluster.id)) return 'the step avoids it';
  if (step.serviceCluster !== undefined && step.serviceCluster !== cluster.id) return `its service runs only on ${step.serviceCluster}`;
  if (!cluster.local && !cluster.peered) return 'not peered';
  if (!cluster.local && !cluster.reachable) return 'not reachable';
  const short = DIMENSIONS.filter((d) => step.requests[d] > cluster.free[d]).map((d) => `${step.requests[d]} ${UNITS[d]} asked, ${cluster.free[d]} free`);
  return short.length ? `not enough free: ${short.join('; ')}` : undefined;
}

/** An hour of the step on the cluster, in its price list's currency (0 when it has none). */
const hourlyCost = (step: PlacementStep, c: PlacementCluster) =>
  c.price ? step.requests.cores * c.price.coreHour + (step.requests.memoryMiB / 1024) * c.price.memoryGiBHour + step.requests.gpus * c.price.gpuHour : 0;

/**
 * The placement planner (ARCHITECTURE.md §9): a pure function of the steps (in an order where every step
 * comes after the steps it reads from), the clusters and the weights. A step's candidates are the
 * clusters it may run on — this one, or a peered, reachable cluster — that its pin, its avoid list and
 * its service allow, and whose free capacity fits its requests (each step is checked alone: steps that
 * may run at once are not added up). Each candidate scores, weighted:
 * - **data**: the share of the bytes the step reads that are already there (its data entries' owners,
 *   and the clusters the plan puts the steps it reads from on); with no size known, the share of the
 *   data entries it reads that are there;
 * - **capacity**: the free headroom left after the step, averaged over the resources it asks for;
 * - **price**: how much cheaper an hour of the step is there than on the dearest candidate.
 * Ties go to this cluster, then by cluster id, so the same inputs always give the same plan. A step that
 * no cluster can run is an InvalidInputError naming every such step, what it asked for and why each
 * cluster was excluded.
 */
export function planPlacement(input: { steps: readonly PlacementStep[]; clusters: readonly PlacementCluster[]; weights?: PlacementWeights }): PlacementPlan {
  const weights = input.weights ?? DEFAULT_WEIGHTS;
  const clusters = [...input.clusters].sort((a, b) => Number(b.local) - Number(a.local) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const placed = new Map<string, string>();
  const out: PlacedStep[] = [];
  const impossible: { step: PlacementStep; excluded: { cluster: string; why: string }[] }[] = [];

  for (const step of input.steps) {
    const excluded: { cluster: string; why: string }[] = [];
    const candidates: PlacementCluster[] = [];
    for (const c of clusters) {
      const why = exclusion(step, c);
      if (why === undefined) candidates.push(c);
      else excluded.push({ cluster: c.id, why });
    }
    if (!candidates.length) {
      impossible.push({ step, excluded });
      continue;
    }
    // Bytes by where they are: data entries at their owners, earlier steps' outputs where the plan put them.
    const bytesAt = new Map<string, number>();
    const add = (cluster: string | undefined, bytes: number) => cluster !== undefined && bytesAt.set(cluster, (bytesAt.get(cluster) ?? 0) + Math.max(0, bytes));
    for (const r of step.reads) add(r.cluster, r.bytes);
    for (const a of step.after) add(placed.get(a.step), a.bytes);
    const totalBytes = [...bytesAt.values()].reduce((a, b) => a + b, 0);
    // Data entries of unknown size count by number when no size is known at all.
    const entries = step.reads.filter((r) => r.entry !== undefined);
    const asked = DIMENSIONS.filter((d) => step.requests[d] > 0);
    const dearest = Math.max(0, ...candidates.map((c) => hourlyCost(step, c)));

    const scored = candidates.map((c) => {
      const data = totalBytes > 0 ? (bytesAt.get(c.id) ?? 0) / totalBytes : entries.length ? entries.filter((r) => r.cluster === c.id).length / entries.length : 0;
      const headroom = asked.length ? asked.reduce((sum, d) => sum + (c.free[d] > 0 ? (c.free[d] - step.requests[d]) / c.free[d] : 0), 0) / asked.length : 1;
      const price = dearest > 0 ? 1 - hourlyCost(step, c) / dearest : 0;
      return { c, data, headroom, price, score: weights.data * data + weights.capacity * headroom + weights.price * price };
    });
    // Stable: equal scores keep the clusters' order (this cluster first, then by id).
    scored.sort((a, b) => b.score - a.score);
    const best = scored[0]!;

    const reasons: string[] = [];
    if (step.pin !== undefined) reasons.push(`pinned to ${label(best.c)}`);
    if (step.serviceCluster !== undefined) reasons.push(`its service runs only on ${label(best.c)}`);
    if (best.data > 0 && totalBytes > 0) reasons.push(`${Math.round(best.data * 100)}% of the ${totalBytes} bytes it reads are there`);
    else if (best.data > 0) reasons.push(`${entries.filter((r) => r.cluster === best.c.id).length} of the ${entries.length} data entries it reads are there`);
    if (weights.price > 0 && best.price > 0) reasons.push(`${Math.round(best.price * 100)}% cheaper than the dearest candidate`);
    reasons.push(
      asked.length
        ? `fits its ${asked.map((d) => `${step.requests[d]} ${UNITS[d]}`).join(', ')} with ${Math.round(best.headroom * 100)}% headroom`
        : 'it asks for no resources',
    );
    if (scored.length > 1 && scored[1]!.score === best.score) reasons.push(best.c.local ? 'a tie, kept on this cluster' : 'a tie, broken by cluster id');

    placed.set(step.step, best.c.id);
    out.push({
      step: step.step,
      cluster: best.c.id,
      reasons,
      score: round(best.score),
      alternatives: scored.slice(1).map((s) => ({ cluster: s.c.id, score: round(s.score) })),
      excluded,
    });
  }

  if (impossible.length) {
    const describe = (s: PlacementStep) => DIMENSIONS.map((d) => `${s.requests[d]} ${UNITS[d]}`).join(', ');
    const message = impossible
      .map(({ step, excluded }) => `step ${step.step} (asks for ${describe(step)}) fits no cluster: ${excluded.map((e) => `${e.cluster}: ${e.why}`).join('; ')}`)
      .join('. ');
    throw new InvalidInputError(
      message,
      impossible.map(({ step }) => ({ path: `steps.${step.step}`, message: 'no cluster can run it' })),
      { details: { steps: impossible.map(({ step, excluded }) => ({ step: step.step, requests: step.requests, excluded })) } },
    );
  }
  return { steps: out };
}

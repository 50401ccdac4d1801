import { InvalidInputError } from '../../core/index.ts';
import type { Process, Requirement, Workflow } from '../cwl/model.ts';
import { inheritRequirements } from '../workflow/inherit-requirements.ts';
import { sourceStep } from '../workflow/link-values.ts';
import type { PlacementStep, Resources } from './plan-placement.ts';

/** The namespaces of the hints placement reads. */
export const ARCHIPEL_NAMESPACE = 'https://archipel.io/cwl#';
const CWLTOOL_NAMESPACE = 'http://commonwl.org/cwltool#';

/** CWL's defaults when a tool states no ResourceRequirement (or states it by expression). */
export const DEFAULT_REQUESTS: Resources = { cores: 1, memoryMiB: 256, gpus: 0 };

/** The user's placement of steps in a run request: a cluster to pin each to, clusters to avoid. */
export type PlacementRequest = Record<string, { cluster?: string; avoid?: string[] }>;

/** A hint's or requirement's class as a full IRI (`cwltool:CUDARequirement` through the document's namespaces). */
function classIri(cls: string, namespaces: Record<string, string>): string {
  const colon = cls.indexOf(':');
  if (colon <= 0 || cls.includes('://')) return cls;
  const prefix = namespaces[cls.slice(0, colon)];
  return prefix ? `${prefix}${cls.slice(colon + 1)}` : cls;
}

const find = (list: Requirement[], iri: string, namespaces: Record<string, string>) => list.find((r) => classIri(r.class, namespaces) === iri || r.class === iri);

/** A number the planner can use, else the default (an expression is only known when the step runs). */
const numberOr = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback);

/** What a tool asks for under the requirements and hints in force: cores, memory and GPUs. */
function requestsOf(inherited: Pick<Process, 'requirements' | 'hints'>, namespaces: Record<string, string>): Resources {
  const all = [...inherited.hints, ...inherited.requirements];
  const resource = all.findLast((r) => r.class === 'ResourceRequirement');
  const cuda = find(all, `${CWLTOOL_NAMESPACE}CUDARequirement`, namespaces);
  const gpu = find(all, `${ARCHIPEL_NAMESPACE}GPURequirement`, namespaces);
  const cores = numberOr(resource?.coresMin, resource?.coresMax !== undefined ? numberOr(resource.coresMax, DEFAULT_REQUESTS.cores) : DEFAULT_REQUESTS.cores);
  const memoryMiB = numberOr(resource?.ramMin, resource?.ramMax !== undefined ? numberOr(resource.ramMax, DEFAULT_REQUESTS.memoryMiB) : DEFAULT_REQUESTS.memoryMiB);
  const gpus = gpu ? numberOr(gpu.count, 1) : cuda ? numberOr(cuda.cudaDeviceCountMin, 1) : 0;
  return { cores, memoryMiB, gpus };
}

/** The step's `arc:Placement` hint: `{ cluster?: id, avoid?: [ids] }`. */
function placementHint(inherited: Pick<Process, 'requirements' | 'hints'>, namespaces: Record<string, string>, at: string) {
  const hint = find([...inherited.hints, ...inherited.requirements], `${ARCHIPEL_NAMESPACE}Placement`, namespaces);
  if (!hint) return {};
  const { cluster, avoid } = hint;
  if ((cluster !== undefined && typeof cluster !== 'string') || (avoid !== undefined && (!Array.isArray(avoid) || avoid.some((a) => typeof a !== 'string')))) {
    throw new InvalidInputError(`${at}: the Placement hint takes cluster (a cluster id) and avoid (a list of cluster ids)`, [{ path: `${at}.hints.Placement`, message: 'invalid' }]);
  }
  return { ...(cluster !== undefined ? { pin: cluster as string } : {}), ...(avoid !== undefined ? { avoid: avoid as string[] } : {}) };
}

/**
 * The planner's view of a workflow's tool steps (subworkflows walked into, their steps named
 * `outer/inner`), in document order — every step after those it reads from, as CWL needs: what each
 * asks for, which earlier steps it reads, and where the document and the run request place it. A run
 * request's placement overrides the document's hint, step by step; one naming no tool step is refused.
 */
export function stepDemands(workflow: Workflow, placement: PlacementRequest = {}): PlacementStep[] {
  const out: PlacementStep[] = [];
  const walk = (wf: Workflow, prefix: string, parent: Pick<Process, 'requirements' | 'hints'>) => {
    for (const step of wf.steps) {
      const path = prefix ? `${prefix}/${step.id}` : step.id;
      const inherited = inheritRequirements(parent, step);
      if (step.run.class === 'Workflow') {
        walk(step.run, path, inherited);
        continue;
      }
      if (step.run.class !== 'CommandLineTool') continue;
      const after = [...new Set(step.in.flatMap((i) => i.source.map((s) => sourceStep(s, wf)).filter((s): s is string => s !== undefined)))];
      const requested = placement[path];
      const namespaces = { ...workflow.namespaces, ...step.run.namespaces };
      const hint = placementHint(inherited, namespaces, `steps.${path}`);
      const pin = requested?.cluster ?? hint.pin;
      const avoid = requested?.avoid ?? hint.avoid;
      out.push({
        step: path,
        requests: requestsOf(inherited, namespaces),
        reads: [],
        after: after.map((s) => ({ step: prefix ? `${prefix}/${s}` : s, bytes: 0 })),
        ...(pin !== undefined ? { pin } : {}),
        ...(avoid !== undefined ? { avoid } : {}),
      });
    }
  };
  walk(workflow, '', { requirements: workflow.requirements, hints: workflow.hints });
  const unknown = Object.keys(placement).filter((p) => !out.some((s) => s.step === p));
  if (unknown.length) {
    throw new InvalidInputError(
      `placement names steps that are not command-line tool steps of this workflow: ${unknown.join(', ')}`,
      unknown.map((p) => ({ path: `placement.${p}`, message: 'no such command-line tool step' })),
    );
  }
  return out;
}

import type { NodeState, RunState } from '../../core/index.ts';
import type { Process, Workflow } from '../cwl/model.ts';
import { sourceStep } from '../cwl/source-ref.ts';

/** Where a CWL step stands, derived from the engine nodes that run it. */
export type StepPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped' | 'Omitted';

export interface StepState {
  /** The step path: `step`, or `outer/inner` inside a subworkflow step. */
  step: string;
  phase: StepPhase;
  /** The cluster that runs the step's tool (this cluster unless the step is placed on a peer). */
  cluster: string;
  startedAt?: string;
  finishedAt?: string;
  /** The tool's exit code (of the last item that ran, for a scattered step). */
  exitCode?: number;
  message?: string;
  /** Scatter items (one for a step without scatter); `reused`: items that took a remembered result instead of running. */
  items: { total: number; succeeded: number; failed: number; running: number; reused: number };
  /** The engine's pod nodes of the step's tool, for its logs. */
  pods: string[];
  // The step's shape in the workflow; absent from steps recorded before the node kept them.
  /** What the step runs. */
  kind?: Process['class'];
  /** Whether the step scatters over its inputs. */
  scatter?: boolean;
  /** The steps (paths, in the same workflow) whose outputs this step reads: the edges of the run's DAG. */
  needs?: string[];
}

const TARGET_CLUSTER = 'archipel.io/target-cluster';
const FAILED = new Set(['Failed', 'Error']);
const FINAL = new Set(['Succeeded', 'Skipped', 'Failed', 'Error', 'Omitted']);

interface ManifestTemplate {
  name: string;
  metadata?: { annotations?: Record<string, string> };
  dag?: { tasks: { name: string; template: string; dependencies?: string[]; arguments?: { parameters?: { name: string; value?: string }[] } }[] };
}

/** Every step path of a workflow, subworkflow steps before their own steps, in document order. */
export function stepPaths(workflow: Workflow, prefix = ''): string[] {
  return workflow.steps.flatMap((s) => {
    const path = prefix ? `${prefix}/${s.id}` : s.id;
    return [path, ...(s.run.class === 'Workflow' ? stepPaths(s.run, path) : [])];
  });
}

/** Each step path's shape in the workflow: what it runs, whether it scatters, the steps it reads from. */
export function stepShapes(workflow: Workflow, prefix = ''): Map<string, Required<Pick<StepState, 'kind' | 'scatter' | 'needs'>>> {
  const out = new Map<string, Required<Pick<StepState, 'kind' | 'scatter' | 'needs'>>>();
  const ids = new Set(workflow.steps.map((s) => s.id));
  for (const s of workflow.steps) {
    const path = prefix ? `${prefix}/${s.id}` : s.id;
    const needs = new Set<string>();
    for (const input of s.in) {
      for (const source of input.source) {
        const from = sourceStep(source, workflow);
        if (from !== undefined && ids.has(from)) needs.add(prefix ? `${prefix}/${from}` : from);
      }
    }
    out.set(path, { kind: s.run.class, scatter: s.scatter.length > 0, needs: [...needs] });
    if (s.run.class === 'Workflow') for (const [inner, shape] of stepShapes(s.run, path)) out.set(inner, shape);
  }
  return out;
}

/** For each DAG template: task name → the CWL step it belongs to (prepare and gather say so; a run task depends on its prepare). */
function taskSteps(templates: ManifestTemplate[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const t of templates) {
    if (!t.dag) continue;
    const map = new Map<string, string>();
    for (const task of t.dag.tasks) {
      const step = task.arguments?.parameters?.find((p) => p.name === 'step')?.value;
      if (step !== undefined && !step.includes('{{')) map.set(task.name, step);
    }
    for (const task of t.dag.tasks) {
      if (map.has(task.name)) continue;
      const prepare = task.dependencies?.length === 1 ? map.get(task.dependencies[0]!) : undefined;
      if (prepare !== undefined) map.set(task.name, prepare);
    }
    out.set(t.name, map);
  }
  return out;
}

/**
 * The state of each CWL step of a run from the engine's nodes (Argo's `status.nodes` shape): walks the
 * node tree from the root, giving each node the step of the DAG task it runs under; a retried node counts
 * by its Retry node, not by its attempts. Steps no node ran yet are Pending (Omitted once the run ended).
 */
export function deriveStepStates(options: {
  workflow: Workflow;
  manifest: Record<string, unknown>;
  state: RunState | undefined;
  localCluster: string;
  /** Where the run placed its top-level steps now (a step placed again after losing its cluster moved). */
  placement?: Record<string, { cluster: string }> | undefined;
}): StepState[] {
  const { workflow, manifest, state, localCluster } = options;
  const templates = ((manifest.spec as { templates?: ManifestTemplate[] } | undefined)?.templates ?? []) as ManifestTemplate[];
  const byTemplate = new Map(templates.map((t) => [t.name, t]));
  const tasks = taskSteps(templates);
  const nodesOf = new Map<string, { node: NodeState; counts: boolean }[]>();
  const assign = (step: string, node: NodeState, counts: boolean) => {
    const list = nodesOf.get(step) ?? [];
    list.push({ node, counts });
    nodesOf.set(step, list);
  };

  const nodes = state?.nodes ?? {};
  const visit = (node: NodeState, step: string | undefined, counts: boolean) => {
    const template = node.templateName !== undefined ? byTemplate.get(node.templateName) : undefined;
    if (node.type === 'DAG' && template?.dag) {
      if (step !== undefined) assign(step, node, counts);
      const map = tasks.get(template.name)!;
      for (const id of node.children ?? []) {
        const child = nodes[id];
        if (child) visit(child, map.get(child.displayName) ?? step, counts);
      }
      return;
    }
    if (step !== undefined) assign(step, node, counts);
    for (const id of node.children ?? []) {
      const child = nodes[id];
      // Attempts of a retried node count through the Retry node.
      if (child) visit(child, step, counts && node.type !== 'Retry');
    }
  };
  const root = state ? nodes[state.name] : undefined;
  if (root) visit(root, undefined, true);

  const runEnded = state !== undefined && FINAL.has(state.phase);
  const shapes = stepShapes(workflow);
  return stepPaths(workflow).map((step) => {
    const all = nodesOf.get(step) ?? [];
    const counted = all.filter((n) => n.counts).map((n) => n.node);
    // The pods that run the step's process: its tool's, or the one evaluating an ExpressionTool.
    const toolPods = all.map((n) => n.node).filter((n) => n.type === 'Pod' && (!n.templateName?.startsWith('archipel-') || n.templateName === 'archipel-expression'));
    const toolTemplate = toolPods.find((n) => n.templateName !== 'archipel-expression')?.templateName ?? counted.find((n) => n.type === 'Skipped' || n.type === 'TaskGroup')?.templateName;
    const annotated = toolTemplate !== undefined ? byTemplate.get(toolTemplate)?.metadata?.annotations?.[TARGET_CLUSTER] : undefined;
    const cluster = (annotated !== undefined ? options.placement?.[step.split('/')[0]!]?.cluster : undefined) ?? annotated ?? localCluster;
    const itemNodes = counted.filter((n) => (n.type === 'Pod' || n.type === 'Retry') && !n.templateName?.startsWith('archipel-'));
    const prepare = counted.find((n) => n.templateName === 'archipel-prepare');
    const reused = Number(prepare?.outputs?.parameters?.find((p) => p.name === 'reused')?.value ?? 0) || 0;
    const items = {
      reused,
      total: itemNodes.length + reused,
      succeeded: itemNodes.filter((n) => n.phase === 'Succeeded').length + reused,
      failed: itemNodes.filter((n) => FAILED.has(n.phase)).length,
      running: itemNodes.filter((n) => n.phase === 'Running' || n.phase === 'Pending').length,
    };
    const failure = counted.find((n) => FAILED.has(n.phase));
    const gather = counted.find((n) => n.templateName === 'archipel-gather');
    const skipped = counted.some((n) => n.phase === 'Skipped');
    const omitted = counted.find((n) => n.phase === 'Omitted');
    let phase: StepPhase;
    let message: string | undefined;
    if (failure) {
      phase = 'Failed';
      message = failure.message ?? failure.phase;
    } else if (gather?.phase === 'Succeeded') phase = skipped && itemNodes.length === 0 && reused === 0 ? 'Skipped' : 'Succeeded';
    else if (omitted) {
      phase = 'Omitted';
      message = omitted.message;
    } else if (counted.some((n) => n.phase === 'Running' || n.phase === 'Succeeded')) phase = 'Running';
    else phase = 'Pending';
    if (runEnded && (phase === 'Pending' || phase === 'Running')) {
      phase = 'Omitted';
      message = `not run: the run ended (${state!.phase})`;
    }
    if (phase === 'Pending' && counted.some((n) => n.message)) message = counted.find((n) => n.message)!.message;
    const started = counted.map((n) => n.startedAt).filter(Boolean).sort()[0];
    const finished = FINAL.has(phase) && phase !== 'Omitted' ? counted.map((n) => n.finishedAt).filter((t): t is string => t !== undefined).sort().at(-1) : undefined;
    // The tool's exit code, as the step runtime recorded it; else the main container's.
    const exitCodeOf = (n: NodeState) => n.outputs?.parameters?.find((p) => p.name === 'tool-exit-code')?.value || n.outputs?.exitCode;
    const lastPod = [...toolPods].reverse().find((n) => exitCodeOf(n) !== undefined);
    return {
      step,
      phase,
      cluster,
      ...(started ? { startedAt: started } : {}),
      ...(finished ? { finishedAt: finished } : {}),
      ...(lastPod ? { exitCode: Number(exitCodeOf(lastPod)) } : {}),
      ...(message !== undefined ? { message } : {}),
      items,
      pods: toolPods.map((n) => n.id),
      ...shapes.get(step)!,
    };
  });
}

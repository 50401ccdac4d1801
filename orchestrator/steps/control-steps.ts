import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError, NotFoundError, type ObjectStore } from '../../core/index.ts';
import { createExpressionEvaluator, type ExpressionEvaluator } from '../cwl/expressions/index.ts';
import type { Process, Workflow, WorkflowStep } from '../cwl/model.ts';
import { checkOutputs } from '../cwl/runtime/collect-outputs.ts';
import { prepareInputs } from '../cwl/runtime/prepare-inputs.ts';
import { expressionOptions } from '../cwl/runtime/run-process.ts';
import { parseSource, type SourceRef } from '../workflow/link-values.ts';
import { gatherStepOutputs, planStepJobs, workflowOutputs } from '../workflow/step-jobs.ts';
import { inheritRequirements } from '../workflow/inherit-requirements.ts';
import { cacheKey, rememberOutputs, reuseEnabled, takeCachedOutputs } from './step-cache.ts';
import { readJson, writeJson } from './store-json.ts';

export { readJson, writeJson } from './store-json.ts';
import { createStoreMirror, OBJECT_LOCATION, type StoreMirror } from './store-files.ts';

/**
 * The control steps of a translated Workflow (see docs/argo.md): they run on the origin cluster, read
 * and write the run's state in its object store under `scope`, and decide what Argo must see.
 */
export interface ControlContext {
  store: ObjectStore;
  /** The whole CWL workflow of the run. */
  root: Workflow;
  /** The run's root scope (`runs/<id>`). */
  rootScope: string;
}

/** Runs work with a mirror of the store in a temporary directory, removed afterwards. */
export async function withMirror<T>(store: ObjectStore, work: (mirror: StoreMirror, scratch: string) => Promise<T>): Promise<T> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'archipel-step-'));
  try {
    return await work(createStoreMirror(store, path.join(scratch, 'objects')), scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The context with the workflow's own files (defaults given as stored objects, `archipel-object:///...`)
 * materialized in the mirror, so that the CWL runtime finds them as local files. Unchanged without any.
 */
export async function withLocalDocument(ctx: ControlContext, mirror: StoreMirror): Promise<ControlContext> {
  if (!JSON.stringify(ctx.root).includes(OBJECT_LOCATION)) return ctx;
  return { ...ctx, root: await mirror.materialize(ctx.root) };
}

/** A step by its path (`outer/inner`), with the workflow that holds it and the requirements it inherits. */
export function locateStep(root: Workflow, stepPath: string): { workflow: Workflow; step: WorkflowStep } {
  let workflow: Workflow = root;
  const parts = stepPath.split('/');
  for (const [i, id] of parts.entries()) {
    const step = workflow.steps.find((s) => s.id === id);
    if (!step) throw new NotFoundError(`no step "${parts.slice(0, i + 1).join('/')}" in workflow ${root.id}`);
    if (i === parts.length - 1) return { workflow, step };
    if (step.run.class !== 'Workflow') throw new InvalidInputError(`step "${parts.slice(0, i + 1).join('/')}" is not a subworkflow`);
    workflow = { ...step.run, ...inheritRequirements(workflow, step) };
  }
  throw new InvalidInputError('empty step path');
}

/** The workflow a scope runs: the root, or the subworkflow named by the scope's `<step>/<item>` pairs. */
export function workflowOfScope(ctx: ControlContext, scope: string): Workflow {
  const relative = scope === ctx.rootScope ? '' : scope.startsWith(`${ctx.rootScope}/`) ? scope.slice(ctx.rootScope.length + 1) : undefined;
  if (relative === undefined) throw new InvalidInputError(`scope ${scope} is not inside the run's scope ${ctx.rootScope}`);
  const segments = relative ? relative.split('/') : [];
  const steps = segments.filter((_, i) => i % 2 === 0);
  if (!steps.length) return ctx.root;
  const { workflow, step } = locateStep(ctx.root, steps.join('/'));
  if (step.run.class !== 'Workflow') throw new InvalidInputError(`scope ${scope} does not run a workflow`);
  return { ...step.run, ...inheritRequirements(workflow, step) };
}

/**
 * The inputs of the workflow running in `scope`, with its defaults applied and its files materialized
 * in the mirror (literal files in `scratch`).
 */
async function scopeInputs(ctx: ControlContext, workflow: Workflow, scope: string, evaluator: ExpressionEvaluator, mirror: StoreMirror, scratch: string) {
  const job = await mirror.materialize(await readJson<Record<string, unknown>>(ctx.store, `${scope}/job.json`));
  const literalDir = path.join(scratch, 'literals');
  mkdirSync(literalDir, { recursive: true });
  return prepareInputs(workflow, job, evaluator, { jobDir: path.dirname(workflow.sourceFile), literalDir });
}

function resolver(ctx: ControlContext, scope: string, inputs: Record<string, unknown>, mirror: StoreMirror) {
  const outputs = new Map<string, Record<string, unknown>>();
  return {
    async load(refs: SourceRef[]) {
      for (const ref of refs) {
        if (ref.kind === 'step' && !outputs.has(ref.step)) outputs.set(ref.step, await mirror.materialize(await readJson(ctx.store, `${scope}/${ref.step}/outputs.json`)));
      }
    },
    resolve(ref: SourceRef): unknown {
      return ref.kind === 'input' ? (inputs[ref.name] ?? null) : (outputs.get(ref.step)?.[ref.output] ?? null);
    },
  };
}

export interface PrepareDecision {
  run: boolean;
  items: number[];
  /** How many items took remembered outputs instead of running (result reuse). */
  reused: number;
}

export interface PrepareOptions {
  /** The object-store prefix of the result cache (a project's); none: results are not reused. */
  cache?: string;
  /** How long one JavaScript expression may run (`archipel run --eval-timeout`); the engine's default when unset. */
  expressionTimeoutMs?: number;
}

/** Where collect finds the cache entry an item's outputs are to be remembered under. */
export const CACHE_NOTE = 'cache.json';

/**
 * `archipel step prepare`: writes the step's jobs and says which of them Argo must run. With a cache, a
 * tool item whose result is remembered takes it and does not run; the others note their cache key for
 * `collect`.
 */
export async function prepareStep(stored: ControlContext, scope: string, stepPath: string, options: PrepareOptions = {}): Promise<PrepareDecision> {
  const located = locateStep(stored.root, stepPath);
  const evaluator = await createExpressionEvaluator(expressionOptions(located.workflow, options.expressionTimeoutMs));
  try {
    return await withMirror(stored.store, async (mirror, scratch) => {
    const ctx = await withLocalDocument(stored, mirror);
    const { workflow, step } = locateStep(ctx.root, stepPath);
    const inputs = await scopeInputs(ctx, workflow, scope, evaluator, mirror, scratch);
    const sources = resolver(ctx, scope, inputs, mirror);
    await sources.load(step.in.flatMap((i) => i.source.map((s) => parseSource(s, workflow))));
    const { jobs, shape } = planStepJobs(workflow, step, (ref) => sources.resolve(ref), evaluator);
    // The key names the tool as stored (its own files by their keys), not as materialized here.
    const process = { ...located.step.run, ...inheritRequirements(located.workflow, located.step) } as Process;
    const cache = options.cache && process.class === 'CommandLineTool' && reuseEnabled(process) ? options.cache : undefined;
    const reused = new Set<number>();
    for (const [i, job] of jobs.entries()) {
      const key = `${scope}/${step.id}/${i}`;
      const published = await mirror.publish(job.inputs, `${key}/inputs`);
      await writeJson(ctx.store, `${key}/job.json`, published);
      if (!cache || !job.run) continue;
      const entry = await cacheKey(ctx.store, process, published);
      const outputs = await takeCachedOutputs(ctx.store, cache, entry, `${key}/files/reused`);
      if (outputs) {
        await writeJson(ctx.store, `${key}/outputs.json`, outputs);
        // The entry now names this run's copy: it outlives the deletion of the run that made it.
        await rememberOutputs(ctx.store, cache, entry, outputs, ctx.rootScope);
        reused.add(i);
      } else await writeJson(ctx.store, `${key}/${CACHE_NOTE}`, { cache, key: entry });
    }
    const run = jobs.map((j) => j.run);
    await writeJson(ctx.store, `${scope}/${step.id}/plan.json`, { shape, run });
    const items = run.flatMap((r, i) => (r && !reused.has(i) ? [i] : []));
    return { run: items.length > 0, items, reused: reused.size };
    });
  } finally {
    evaluator.close();
  }
}

/** `archipel step gather`: merges the outputs of a step's jobs (null for skipped ones). */
export async function gatherStep(ctx: ControlContext, scope: string, stepPath: string): Promise<Record<string, unknown>> {
  const { step } = locateStep(ctx.root, stepPath);
  const plan = await readJson<{ shape: number[]; run: boolean[] }>(ctx.store, `${scope}/${step.id}/plan.json`);
  const jobOutputs: (Record<string, unknown> | null)[] = [];
  for (const [i, ran] of plan.run.entries()) {
    jobOutputs.push(ran ? await readJson<Record<string, unknown>>(ctx.store, `${scope}/${step.id}/${i}/outputs.json`) : null);
  }
  const outputs = gatherStepOutputs(step, plan.shape, jobOutputs);
  await writeJson(ctx.store, `${scope}/${step.id}/outputs.json`, outputs);
  return outputs;
}

/** `archipel step finish`: writes the output object of the workflow running in `scope`. */
export async function finishScope(stored: ControlContext, scope: string, options: { expressionTimeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  const evaluator = await createExpressionEvaluator(expressionOptions(workflowOfScope(stored, scope), options.expressionTimeoutMs));
  try {
    return await withMirror(stored.store, async (mirror, scratch) => {
      const ctx = await withLocalDocument(stored, mirror);
      const workflow = workflowOfScope(ctx, scope);
      const inputs = await scopeInputs(ctx, workflow, scope, evaluator, mirror, scratch);
      const sources = resolver(ctx, scope, inputs, mirror);
      await sources.load(workflow.outputs.flatMap((o) => (o.outputSource ?? []).map((s) => parseSource(s, workflow))));
      const outputs = workflowOutputs(workflow, (ref) => sources.resolve(ref));
      checkOutputs(workflow, outputs);
      const published = await mirror.publish(outputs, `${scope}/outputs`);
      await writeJson(ctx.store, `${scope}/outputs.json`, published);
      return published;
    });
  } finally {
    evaluator.close();
  }
}

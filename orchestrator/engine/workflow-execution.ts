import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, type Clock, type Logger } from '../../core/index.ts';
import { withDeadline, sleep } from './deadline.ts';
import {
  dependenciesExpression,
  dependsTasks,
  evaluateDepends,
  handledFailures,
  parseDepends,
  type DependsExpression,
  type TaskOutcome,
} from './depends-expression.ts';
import { interruptionMessage, messages } from './interruption.ts';
import type { DagTask, Template, WorkflowManifest } from './manifest.ts';
import { nodeId } from './node-id.ts';
import type { ContainerRunner } from './process-runner.ts';
import { formatCpu, formatMiB, parseDurationMs } from './quantity.ts';
import { InsufficientCapacityError, createResourceScheduler, type ResourceRequest, type ResourceScheduler } from './resource-scheduler.ts';
import { placedElsewhere, type PlacedPods } from './placed-pods.ts';
import { DEFAULT_REQUEST, podRequest, runPod, type PodResult } from './run-pod.ts';
import { LEAF_PREFIXES, itemLabel, itemScope, substitute, substituteDeep, unresolvedTags, type Scope } from './substitute.ts';
import { taskScope } from './task-scope.ts';
import type { NodeParameter, NodePhase, NodeState, NodeType } from '../../core/index.ts';
import { WhenExpressionError, evaluateWhen } from './when-expression.ts';

export interface ExecutionOptions {
  /** A checked manifest whose `metadata.name` is set and whose arguments hold the submitted values. */
  manifest: WorkflowManifest;
  /** Where the run's pods keep their directories. */
  runDir: string;
  scheduler: ResourceScheduler;
  runner: ContainerRunner;
  clock: Clock;
  logger: Logger;
  defaultRequest?: ResourceRequest;
  /** Called after every change of a node (the node object itself; copy it to keep it). */
  onNodeChange(node: NodeState): void;
  /**
   * The nodes of an earlier, interrupted execution of this run: a node that succeeded there is taken over
   * with everything under it instead of running again; the others run again.
   */
  previous?: Record<string, NodeState>;
  /** Runs the pods placed on other clusters; without it, every pod runs here. */
  placedPods?: PlacedPods;
}

interface Call {
  nodeName: string;
  displayName: string;
  templateName: string;
  /** Argument values by parameter name. */
  arguments: Record<string, string>;
  parentId?: string;
  signal: AbortSignal;
  /** Set on the attempts of a retried template. */
  attempt?: number;
}

const failed = (phase: NodePhase) => phase === 'Failed' || phase === 'Error';
const continues = (task: DagTask, phase: NodePhase) =>
  (phase === 'Failed' && task.continueOn?.failed === true) || (phase === 'Error' && task.continueOn?.error === true);

/**
 * Executes one Workflow the way Argo's controller does, node by node: DAG templates schedule their tasks
 * by `dependencies`/`depends`, `when`, `withParam`/`withItems`; leaf templates become pods run on this
 * machine once the resource scheduler admits them; `retryStrategy` wraps attempts in a Retry node.
 * Every node change is reported through `onNodeChange`.
 */
export class WorkflowExecution {
  readonly nodes: Record<string, NodeState> = {};
  private readonly name: string;
  private readonly templates: Map<string, Template>;
  private readonly globals: Scope;
  private readonly podSlots?: ResourceScheduler;

  constructor(private readonly options: ExecutionOptions) {
    const { metadata, spec } = options.manifest;
    this.name = metadata.name!;
    this.templates = new Map(spec.templates.map((t) => [t.name, t]));
    const parameters = spec.arguments?.parameters ?? [];
    this.globals = {
      'workflow.name': this.name,
      'workflow.namespace': metadata.namespace ?? 'default',
      'workflow.uid': metadata.uid ?? '',
      ...Object.fromEntries(parameters.map((p) => [`workflow.parameters.${p.name}`, p.value ?? ''])),
      'workflow.parameters.json': JSON.stringify(parameters.map((p) => ({ name: p.name, value: p.value ?? '' }))),
      ...Object.fromEntries(Object.entries(metadata.labels ?? {}).map(([k, v]) => [`workflow.labels.${k}`, v])),
      ...Object.fromEntries(Object.entries(metadata.annotations ?? {}).map(([k, v]) => [`workflow.annotations.${k}`, v])),
    };
    // spec.parallelism bounds the run's pods at once: a scheduler of that many one-unit slots.
    if (spec.parallelism) this.podSlots = createResourceScheduler({ cores: spec.parallelism, memoryMiB: 0 });
  }

  /** Runs the entrypoint with the workflow's arguments; resolves with the root node once it finished. */
  async run(signal: AbortSignal): Promise<NodeState> {
    const spec = this.options.manifest.spec;
    const deadline = spec.activeDeadlineSeconds !== undefined ? spec.activeDeadlineSeconds * 1000 : undefined;
    const guarded = withDeadline(signal, deadline, messages.workflowDeadline);
    try {
      return await this.executeTemplate({
        nodeName: this.name,
        displayName: this.name,
        templateName: spec.entrypoint,
        arguments: Object.fromEntries((spec.arguments?.parameters ?? []).map((p) => [p.name, p.value ?? ''])),
        signal: guarded.signal,
      });
    } finally {
      guarded.clear();
    }
  }

  private now() {
    return this.options.clock.now().toISOString();
  }

  private changed(node: NodeState) {
    this.options.onNodeChange(node);
  }

  private createNode(call: Call, type: NodeType, phase: NodePhase, extra: Partial<NodeState> = {}): NodeState {
    const node: NodeState = {
      id: nodeId(this.name, call.nodeName),
      name: call.nodeName,
      displayName: call.displayName,
      type,
      phase,
      templateName: call.templateName,
      startedAt: this.now(),
      ...extra,
    };
    this.nodes[node.id] = node;
    const parent = call.parentId !== undefined ? this.nodes[call.parentId] : undefined;
    if (parent) {
      (parent.children ??= []).push(node.id);
      this.changed(parent);
    }
    this.changed(node);
    return node;
  }

  private finish(node: NodeState, phase: NodePhase, fields: Pick<NodeState, 'message' | 'outputs'> = {}): NodeState {
    node.phase = phase;
    node.finishedAt = this.now();
    if (fields.message !== undefined) node.message = fields.message;
    else delete node.message;
    if (fields.outputs !== undefined && Object.keys(fields.outputs).length) node.outputs = fields.outputs;
    this.changed(node);
    return node;
  }

  /** A node that ends as it starts: skipped, omitted, or an error found before anything ran. */
  private ended(call: Call, type: NodeType, phase: NodePhase, message: string): NodeState {
    return this.finish(this.createNode(call, type, phase), phase, { message });
  }

  /** Takes over a node that succeeded in an earlier execution, with its descendants; undefined otherwise. */
  private reuse(call: Call): NodeState | undefined {
    const previous = this.options.previous;
    const earlier = previous?.[nodeId(this.name, call.nodeName)];
    if (!earlier || earlier.phase !== 'Succeeded') return undefined;
    const copy = (node: NodeState) => {
      this.nodes[node.id] = structuredClone(node);
      this.changed(this.nodes[node.id]!);
      for (const id of node.children ?? []) if (previous![id]) copy(previous![id]!);
    };
    copy(earlier);
    const parent = call.parentId !== undefined ? this.nodes[call.parentId] : undefined;
    if (parent && !(parent.children ??= []).includes(earlier.id)) {
      parent.children.push(earlier.id);
      this.changed(parent);
    }
    return this.nodes[earlier.id];
  }

  private async executeTemplate(call: Call): Promise<NodeState> {
    const reused = this.reuse(call);
    if (reused) return reused;
    const template = this.templates.get(call.templateName);
    const type: NodeType = template?.dag ? 'DAG' : 'Pod';
    if (!template) return this.ended(call, type, 'Error', `template "${call.templateName}" not found`);
    let inputs: NodeParameter[];
    try {
      inputs = resolveInputs(template, call.arguments);
    } catch (error) {
      return this.ended(call, type, 'Error', (error as Error).message);
    }
    if (template.retryStrategy && call.attempt === undefined) return this.executeRetry(call, template, inputs);
    return this.executeBody(call, template, inputs);
  }

  private inputScope(call: Call, inputs: NodeParameter[]): Scope {
    return {
      ...this.globals,
      ...Object.fromEntries(inputs.map((p) => [`inputs.parameters.${p.name}`, p.value])),
      'inputs.parameters': JSON.stringify(inputs),
      'node.name': call.nodeName,
      'pod.name': nodeId(this.name, call.nodeName),
      ...(call.attempt !== undefined ? { retries: String(call.attempt) } : {}),
    };
  }

  private async executeBody(call: Call, raw: Template, inputs: NodeParameter[]): Promise<NodeState> {
    const type: NodeType = raw.dag ? 'DAG' : 'Pod';
    const template = substituteDeep(raw, this.inputScope(call, inputs));
    let deadlineMs: number | undefined;
    try {
      if (template.activeDeadlineSeconds !== undefined) deadlineMs = parseDurationMs(template.activeDeadlineSeconds);
    } catch {
      return this.ended(call, type, 'Error', `invalid activeDeadlineSeconds '${template.activeDeadlineSeconds}'`);
    }
    if (template.dag) return this.executeDag(call, template, inputs, deadlineMs);
    const left = unresolvedTags({ ...template, dag: undefined, outputs: undefined }, LEAF_PREFIXES);
    if (left.length) return this.ended(call, type, 'Error', `failed to resolve ${left[0]}`);
    return this.executePod(call, template, inputs, deadlineMs);
  }

  private async executeRetry(call: Call, raw: Template, inputs: NodeParameter[]): Promise<NodeState> {
    const node = this.createNode(call, 'Retry', 'Running', { inputs: { parameters: inputs } });
    const strategy = substituteDeep(raw.retryStrategy!, this.inputScope(call, inputs));
    const limit = strategy.limit === undefined ? Infinity : Number(strategy.limit);
    const policy = strategy.retryPolicy ?? 'OnFailure';
    const retryOn = (phase: NodePhase) =>
      policy === 'Always' || policy === 'OnTransientError' || (policy === 'OnFailure' ? phase === 'Failed' : phase === 'Error');
    let backoff: { base: number; factor: number; maxDuration?: number } | undefined;
    try {
      const b = strategy.backoff;
      if (!Number.isFinite(limit) && strategy.limit !== undefined) throw new Error(`invalid retryStrategy.limit '${strategy.limit}'`);
      if (b) backoff = { base: parseDurationMs(b.duration ?? 0), factor: Number(b.factor ?? 1) || 1, ...(b.maxDuration !== undefined ? { maxDuration: parseDurationMs(b.maxDuration) } : {}) };
    } catch (error) {
      return this.finish(node, 'Error', { message: (error as Error).message });
    }
    const firstStart = Date.now();
    for (let attempt = 0; ; attempt++) {
      const child = await this.executeBody(
        { ...call, nodeName: `${call.nodeName}(${attempt})`, displayName: `${call.displayName}(${attempt})`, parentId: node.id, attempt },
        raw,
        inputs,
      );
      const outputs = child.outputs ?? {};
      if (child.phase === 'Succeeded') return this.finish(node, 'Succeeded', { outputs });
      if (call.signal.aborted) return this.finish(node, child.phase, { message: interruptionMessage(call.signal), outputs });
      if (!retryOn(child.phase)) return this.finish(node, child.phase, { message: child.message ?? child.phase, outputs });
      if (attempt >= limit) return this.finish(node, child.phase, { message: 'No more retries left', outputs });
      if (backoff) {
        const wait = backoff.base * backoff.factor ** attempt;
        if (backoff.maxDuration !== undefined && Date.now() + wait - firstStart > backoff.maxDuration) {
          return this.finish(node, child.phase, { message: 'Backoff would exceed max duration limit', outputs });
        }
        try {
          await sleep(wait, call.signal);
        } catch {
          return this.finish(node, 'Failed', { message: interruptionMessage(call.signal), outputs });
        }
      }
    }
  }

  private async executePod(call: Call, template: Template, inputs: NodeParameter[], deadlineMs: number | undefined): Promise<NodeState> {
    const node = this.createNode(call, 'Pod', 'Pending', { inputs: { parameters: inputs } });
    let request: ResourceRequest;
    try {
      request = podRequest(template, this.options.defaultRequest ?? DEFAULT_REQUEST);
    } catch (error) {
      return this.finish(node, 'Error', { message: (error as Error).message });
    }
    const releases: (() => void)[] = [];
    const cluster = placedElsewhere(template, this.options.placedPods);
    const onWait = () => {
      node.message = `waiting for ${formatCpu(request.cpu)} cpu and ${formatMiB(request.memoryMiB)} of memory to be free`;
      this.changed(node);
    };
    try {
      if (this.podSlots) releases.push(await this.podSlots.acquire({ cpu: 1, memoryMiB: 0 }, { signal: call.signal }));
      // A pod placed on another cluster is admitted there, within what that cluster reserved for the run.
      if (cluster === undefined) releases.push(await this.options.scheduler.acquire(request, { signal: call.signal, onWait }));
    } catch (error) {
      releases.forEach((release) => release());
      if (error instanceof InsufficientCapacityError) return this.finish(node, 'Error', { message: error.message });
      return this.finish(node, 'Failed', { message: call.signal.aborted ? interruptionMessage(call.signal) : describeError(error) });
    }
    node.phase = 'Running';
    delete node.message;
    this.changed(node);
    this.options.logger.info('pod started', { node: node.displayName });
    // Kubernetes counts a pod's activeDeadlineSeconds from its start, not from its creation.
    const guarded = withDeadline(call.signal, deadlineMs, messages.podDeadline);
    try {
      // A pod that runs again after an interruption starts with fresh volumes, as a new pod would.
      if (this.options.previous?.[node.id]) await rm(join(this.options.runDir, node.id), { recursive: true, force: true });
      const podDir = join(this.options.runDir, node.id);
      const here = () => runPod({ runName: this.name, nodeId: node.id, template, spec: this.options.manifest.spec, podDir, runDir: this.options.runDir, runner: this.options.runner, signal: guarded.signal });
      let result: PodResult | 'here' =
        cluster === undefined
          ? await here()
          : await this.options.placedPods!.run({
              runName: this.name,
              nodeId: node.id,
              cluster,
              template,
              podDir,
              signal: guarded.signal,
              progress: (message) => {
                if (message === node.message) return;
                if (message === undefined) delete node.message;
                else node.message = message;
                this.changed(node);
              },
            });
      if (result === 'here') {
        // Placed again on this cluster after its own was lost: admitted here like any pod.
        releases.push(await this.options.scheduler.acquire(request, { signal: guarded.signal, onWait }));
        result = await here();
      }
      this.options.logger.info('pod finished', { node: node.displayName, phase: result.phase, ...(cluster ? { cluster } : {}), ...(result.message ? { message: result.message } : {}) });
      return this.finish(node, result.phase, { message: result.message, outputs: result.outputs });
    } catch (error) {
      if (error instanceof InsufficientCapacityError) return this.finish(node, 'Error', { message: error.message });
      if (guarded.signal.aborted) return this.finish(node, 'Failed', { message: interruptionMessage(guarded.signal) });
      this.options.logger.warn('pod could not run', { node: node.name, error: describeError(error) });
      return this.finish(node, 'Error', { message: describeError(error) });
    } finally {
      guarded.clear();
      releases.forEach((release) => release());
    }
  }

  private async executeDag(call: Call, template: Template, inputs: NodeParameter[], deadlineMs: number | undefined): Promise<NodeState> {
    const node = this.createNode(call, 'DAG', 'Running', { inputs: { parameters: inputs } });
    const guarded = withDeadline(call.signal, deadlineMs, messages.dagDeadline);
    try {
      return await this.runDag(node, template, guarded.signal);
    } catch (error) {
      this.options.logger.error('DAG execution failed', { node: node.name, error: describeError(error) });
      return this.finish(node, 'Error', { message: describeError(error) });
    } finally {
      guarded.clear();
    }
  }

  private async runDag(node: NodeState, template: Template, signal: AbortSignal): Promise<NodeState> {
    const dag = template.dag!;
    const byName = new Map(dag.tasks.map((t) => [t.name, t]));
    const logic = new Map<string, DependsExpression | undefined>(
      dag.tasks.map((t) => [t.name, t.depends !== undefined ? parseDepends(t.depends) : dependenciesExpression(t.dependencies ?? [])]),
    );
    const deps = new Map(dag.tasks.map((t) => [t.name, dependsTasks(logic.get(t.name))]));
    const handled = new Set(dag.tasks.flatMap((t) => handledFailures(logic.get(t.name))));
    const failFast = dag.failFast ?? true;
    const done = new Map<string, NodeState>();
    const running = new Map<string, Promise<void>>();
    let firstFailure: NodeState | undefined;
    let stopStarting = false;

    const outcome = (name: string): TaskOutcome => {
      const n = done.get(name)!;
      const items = n.type === 'TaskGroup' ? (n.children ?? []).map((id) => this.nodes[id]!.phase) : undefined;
      return { phase: n.phase, ...(items ? { itemPhases: items } : {}), continueOn: byName.get(name)!.continueOn ?? {} };
    };
    const startReady = (): boolean => {
      let changed = false;
      for (const task of dag.tasks) {
        if (signal.aborted || stopStarting) break;
        if (template.parallelism && running.size >= template.parallelism) break;
        if (done.has(task.name) || running.has(task.name)) continue;
        if (deps.get(task.name)!.some((d) => !done.has(d))) continue;
        const call: Call = { nodeName: `${node.name}.${task.name}`, displayName: task.name, templateName: task.template, arguments: {}, parentId: node.id, signal };
        const expression = logic.get(task.name);
        changed = true;
        if (expression && !evaluateDepends(expression, outcome)) {
          done.set(task.name, this.ended(call, 'Skipped', 'Omitted', 'omitted: depends condition not met'));
          continue;
        }
        const scope = taskScope(done, this.nodes);
        const execution = this.executeTask(call, task, scope)
          .catch((error: unknown) => this.ended(call, 'Skipped', 'Error', describeError(error)))
          .then((taskNode) => {
            running.delete(task.name);
            done.set(task.name, taskNode);
            if (failed(taskNode.phase) && !continues(task, taskNode.phase)) {
              firstFailure ??= taskNode;
              if (failFast && !handled.has(task.name)) stopStarting = true;
            }
          });
        running.set(task.name, execution);
      }
      return changed;
    };
    for (;;) {
      while (startReady());
      if (running.size === 0) break;
      await Promise.race(running.values());
    }

    // Argo's assessment: each target task's branch phase; an omitted task inherits a failed ancestor's.
    const branch = (name: string): NodePhase | undefined => {
      const n = done.get(name);
      if (!n) return undefined;
      if (n.phase !== 'Omitted') return n.phase;
      return deps.get(name)!.map(branch).find((p) => p !== undefined && failed(p)) ?? 'Succeeded';
    };
    const culprit = (name: string): NodeState | undefined => {
      const n = done.get(name);
      if (!n) return undefined;
      if (failed(n.phase)) return n;
      for (const d of deps.get(name)!) {
        const p = branch(d);
        if (p !== undefined && failed(p)) return culprit(d);
      }
      return undefined;
    };
    const targets = dag.target ? dag.target.split(' ').filter(Boolean) : dag.tasks.map((t) => t.name).filter((name) => ![...deps.values()].some((d) => d.includes(name)));
    const failing = targets.find((t) => {
      const p = branch(t);
      return p !== undefined && failed(p) && !continues(byName.get(t)!, p);
    });
    const unreached = targets.some((t) => !done.has(t));
    if (failing === undefined && !unreached) return this.finishDag(node, template, done);
    if (signal.aborted) return this.finish(node, 'Failed', { message: interruptionMessage(signal) });
    const cause = (failing !== undefined ? culprit(failing) : undefined) ?? firstFailure;
    if (!cause) return this.finish(node, 'Failed', { message: 'the DAG stopped before all its tasks ran' });
    return this.finish(node, cause.phase === 'Error' ? 'Error' : 'Failed', { message: this.describeFailure(cause) });
  }

  /** A succeeded DAG's outputs: `valueFrom.parameter` references to its tasks' outputs. */
  private finishDag(node: NodeState, template: Template, done: Map<string, NodeState>): NodeState {
    const declared = template.outputs?.parameters ?? [];
    if (!declared.length) return this.finish(node, 'Succeeded');
    const scope = taskScope(done, this.nodes);
    const parameters: NodeParameter[] = [];
    for (const p of declared) {
      const raw = p.valueFrom?.parameter ?? p.value ?? '';
      const value = substitute(raw, scope);
      if (unresolvedTags(value, LEAF_PREFIXES).length) {
        if (p.valueFrom?.default === undefined) return this.finish(node, 'Error', { message: `failed to resolve ${raw} for output parameter "${p.name}"` });
        parameters.push({ name: p.name, value: p.valueFrom.default });
      } else parameters.push({ name: p.name, value });
    }
    return this.finish(node, 'Succeeded', { outputs: { parameters } });
  }

  /** `task 'workflow.step' failed: Error (exit code 1)`, naming the innermost node that failed. */
  private describeFailure(node: NodeState): string {
    if (node.type === 'DAG' && node.message?.startsWith("task '")) return node.message;
    if (node.type === 'TaskGroup' || node.type === 'Retry') {
      const children = (node.children ?? []).map((id) => this.nodes[id]!);
      const child = node.type === 'Retry' ? children.at(-1) : children.find((c) => failed(c.phase));
      if (child && failed(child.phase)) return this.describeFailure(child);
    }
    const path = node.name.startsWith(`${this.name}.`) ? node.name.slice(this.name.length + 1) : node.name;
    return `task '${path}' failed: ${node.message ?? node.phase}`;
  }

  private async executeTask(call: Call, task: DagTask, scope: Scope): Promise<NodeState> {
    const reused = this.reuse(call);
    if (reused) return reused;
    const { withItems, ...rest } = task;
    const resolved = substituteDeep(rest, scope);
    const left = unresolvedTags({ ...resolved, template: undefined }, LEAF_PREFIXES.filter((p) => p !== 'item'));
    if (left.length) return this.ended(call, 'Skipped', 'Error', `failed to resolve ${left[0]}`);
    if (resolved.withParam === undefined && withItems === undefined) return this.executeItem(call, resolved, {});

    let items: unknown[];
    if (withItems !== undefined) items = withItems;
    else {
      try {
        items = JSON.parse(resolved.withParam!) as unknown[];
        if (!Array.isArray(items)) throw new Error('not a list');
      } catch {
        return this.ended(call, 'Skipped', 'Error', `withParam value could not be parsed as a JSON list: ${resolved.withParam!.trim()}`);
      }
    }
    const group = this.createNode(call, 'TaskGroup', 'Running');
    const children = await Promise.all(
      items.map((item, i) => {
        const label = `(${i}:${itemLabel(item)})`;
        return this.executeItem({ ...call, nodeName: call.nodeName + label, displayName: call.displayName + label, parentId: group.id }, resolved, itemScope(item));
      }),
    );
    // An empty list leaves a group without children, which Argo marks Succeeded.
    const failure = children.find((c) => failed(c.phase));
    return this.finish(group, failure ? failure.phase : 'Succeeded', failure ? { message: this.describeFailure(failure) } : {});
  }

  private async executeItem(call: Call, task: Omit<DagTask, 'withItems'>, scope: Scope): Promise<NodeState> {
    const resolved = substituteDeep({ when: task.when, arguments: task.arguments }, scope);
    const left = unresolvedTags(resolved, ['item']);
    if (left.length) return this.ended(call, 'Skipped', 'Error', `failed to resolve ${left[0]}`);
    if (resolved.when !== undefined) {
      try {
        if (!evaluateWhen(resolved.when)) return this.ended(call, 'Skipped', 'Skipped', `when '${resolved.when}' evaluated false`);
      } catch (error) {
        if (error instanceof WhenExpressionError) return this.ended(call, 'Skipped', 'Error', error.message);
        throw error;
      }
    }
    const args: Record<string, string> = {};
    for (const p of resolved.arguments?.parameters ?? []) if (p.value !== undefined) args[p.name] = p.value;
    return this.executeTemplate({ ...call, arguments: args });
  }
}

/** A template's input values: its own fixed `value`, else the argument, else its `default`. */
function resolveInputs(template: Template, args: Record<string, string>): NodeParameter[] {
  return (template.inputs?.parameters ?? []).map((p) => {
    const value = p.value ?? args[p.name] ?? p.default;
    if (value === undefined) throw new Error(`inputs.parameters.${p.name} was not supplied`);
    if (p.enum && !p.enum.includes(value)) throw new Error(`value '${value}' is not one of inputs.parameters.${p.name}.enum (${p.enum.join(', ')})`);
    return { name: p.name, value };
  });
}

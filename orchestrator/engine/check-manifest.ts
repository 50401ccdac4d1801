import { InvalidInputError, NotImplementedError, type InputIssue } from '../../core/index.ts';
import { dependsTasks, parseDepends } from './depends-expression.ts';
import type { Volume, WorkflowManifest } from './manifest.ts';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

// Fields whose meaning the local engine cannot honour: refusing them beats running something else.
const UNSUPPORTED_SPEC = ['onExit', 'hooks', 'workflowTemplateRef', 'templateDefaults', 'synchronization', 'suspend', 'shutdown'];
const UNSUPPORTED_TEMPLATE = ['memoize', 'synchronization', 'sidecars', 'initContainers', 'daemon'];
const UNSUPPORTED_KINDS = ['steps', 'resource', 'suspend', 'http', 'plugin', 'data'];
const UNSUPPORTED_TASK = ['templateRef', 'inline', 'withSequence', 'onExit', 'hooks'];
const KINDS = ['container', 'script', 'containerSet', 'dag'] as const;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Checks that a manifest is a Workflow the local engine can run, and returns it with parameter values as
 * strings. Malformed manifests fail with an InvalidInputError listing every problem; well-formed ones
 * using features this engine does not implement fail with a NotImplementedError naming them.
 */
export function checkManifest(value: unknown): WorkflowManifest {
  const issues: InputIssue[] = [];
  const unsupported: InputIssue[] = [];
  const bad = (path: string, message: string) => void issues.push({ path, message });
  const notHere = (path: string, message: string) => void unsupported.push({ path, message });

  if (!isObject(value)) throw new InvalidInputError('a Workflow manifest must be an object', [{ path: '', message: 'not an object' }]);
  const manifest = structuredClone(value);
  if (manifest.kind !== 'Workflow') bad('kind', `expected "Workflow", got ${JSON.stringify(manifest.kind)}`);
  if (manifest.apiVersion !== 'argoproj.io/v1alpha1') bad('apiVersion', 'expected "argoproj.io/v1alpha1"');
  const metadata = isObject(manifest.metadata) ? manifest.metadata : (bad('metadata', 'required'), {});
  if (metadata.name !== undefined && (typeof metadata.name !== 'string' || !NAME.test(metadata.name) || metadata.name.length > 253)) {
    bad('metadata.name', 'must be a lower-case DNS name');
  }
  if (metadata.generateName !== undefined && (typeof metadata.generateName !== 'string' || !/^[a-z0-9][-a-z0-9.]*$/.test(metadata.generateName))) {
    bad('metadata.generateName', 'must be a lower-case DNS name prefix');
  }
  if (metadata.name === undefined && metadata.generateName === undefined) bad('metadata', 'name or generateName is required');

  const spec = isObject(manifest.spec) ? manifest.spec : (bad('spec', 'required'), {} as Obj);
  for (const key of UNSUPPORTED_SPEC) if (spec[key] !== undefined) notHere(`spec.${key}`, 'not supported by the local engine');
  if (typeof spec.entrypoint !== 'string') bad('spec.entrypoint', 'required');
  for (const key of ['activeDeadlineSeconds', 'parallelism']) {
    if (spec[key] !== undefined && !(typeof spec[key] === 'number' && spec[key] > 0)) bad(`spec.${key}`, 'must be a positive number');
  }
  normaliseParameters(spec.arguments, 'spec.arguments', bad);

  const volumeNames = new Set<string>();
  if (spec.volumes !== undefined) checkVolumes(spec.volumes, 'spec.volumes', volumeNames, bad, notHere);
  if (spec.volumeClaimTemplates !== undefined) {
    if (!Array.isArray(spec.volumeClaimTemplates)) bad('spec.volumeClaimTemplates', 'must be a list');
    else spec.volumeClaimTemplates.forEach((c: unknown, i) => {
      const name = isObject(c) && isObject(c.metadata) ? c.metadata.name : undefined;
      if (typeof name === 'string') volumeNames.add(name);
      else bad(`spec.volumeClaimTemplates.${i}.metadata.name`, 'required');
    });
  }

  const templates = Array.isArray(spec.templates) ? spec.templates : (bad('spec.templates', 'must be a non-empty list'), []);
  const templateNames = new Set<string>();
  templates.forEach((t: unknown, i) => {
    const name = isObject(t) ? t.name : undefined;
    if (typeof name !== 'string' || !name) bad(`spec.templates.${i}.name`, 'required');
    else if (templateNames.has(name)) bad(`spec.templates.${i}.name`, `duplicate template "${name}"`);
    else templateNames.add(name);
  });
  if (typeof spec.entrypoint === 'string' && !templateNames.has(spec.entrypoint)) bad('spec.entrypoint', `no template named "${spec.entrypoint}"`);
  templates.forEach((t: unknown, i) => {
    if (isObject(t)) checkTemplate(t, `spec.templates.${i}`, { templateNames, volumeNames, bad, notHere });
  });

  for (const path of expressionTags(manifest)) notHere(path, 'expression tags ({{=...}}) are not supported by the local engine');

  if (issues.length) throw new InvalidInputError(`invalid Workflow manifest: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`, issues);
  if (unsupported.length) {
    throw new NotImplementedError(`the local engine cannot run this Workflow: ${unsupported.map((x) => `${x.path}: ${x.message}`).join('; ')}`, {
      details: { issues: unsupported },
    });
  }
  return manifest as unknown as WorkflowManifest;
}

interface TemplateContext {
  templateNames: Set<string>;
  volumeNames: Set<string>;
  bad: (path: string, message: string) => void;
  notHere: (path: string, message: string) => void;
}

function checkTemplate(t: Obj, path: string, ctx: TemplateContext): void {
  const { bad, notHere } = ctx;
  for (const key of UNSUPPORTED_TEMPLATE) if (t[key] !== undefined && t[key] !== false) notHere(`${path}.${key}`, 'not supported by the local engine');
  for (const key of UNSUPPORTED_KINDS) if (t[key] !== undefined) notHere(`${path}.${key}`, `${key} templates are not supported by the local engine`);
  const kinds = KINDS.filter((k) => t[k] !== undefined);
  if (kinds.length > 1) bad(path, `has several kinds (${kinds.join(', ')})`);
  if (kinds.length === 0 && !UNSUPPORTED_KINDS.some((k) => t[k] !== undefined)) bad(path, `needs one of ${KINDS.join(', ')}`);

  normaliseParameters(t.inputs, `${path}.inputs`, bad);
  normaliseParameters(t.outputs, `${path}.outputs`, bad);
  for (const side of ['inputs', 'outputs'] as const) {
    const io = t[side];
    if (isObject(io) && Array.isArray(io.artifacts) && io.artifacts.length) notHere(`${path}.${side}.artifacts`, 'artifacts are not supported by the local engine');
  }
  const outputs = isObject(t.outputs) && Array.isArray(t.outputs.parameters) ? (t.outputs.parameters as Obj[]) : [];
  outputs.forEach((p, i) => {
    const from = p.valueFrom;
    if (!isObject(from)) return;
    const allowed = t.dag !== undefined ? ['parameter', 'default'] : ['path', 'default'];
    for (const key of Object.keys(from)) if (!allowed.includes(key)) notHere(`${path}.outputs.parameters.${i}.valueFrom.${key}`, 'not supported by the local engine');
  });
  if (t.activeDeadlineSeconds !== undefined && !['number', 'string'].includes(typeof t.activeDeadlineSeconds)) bad(`${path}.activeDeadlineSeconds`, 'must be a number');
  if (isObject(t.retryStrategy) && t.retryStrategy.expression !== undefined) notHere(`${path}.retryStrategy.expression`, 'not supported by the local engine');
  if (isObject(t.retryStrategy) && t.retryStrategy.retryPolicy !== undefined && !['Always', 'OnFailure', 'OnError', 'OnTransientError'].includes(t.retryStrategy.retryPolicy as string)) {
    bad(`${path}.retryStrategy.retryPolicy`, 'must be Always, OnFailure, OnError or OnTransientError');
  }

  const volumes = new Set(ctx.volumeNames);
  if (t.volumes !== undefined) checkVolumes(t.volumes, `${path}.volumes`, volumes, bad, notHere);
  const container = (c: unknown, p: string, extraMounts: unknown) => checkContainer(c, p, volumes, extraMounts, ctx);
  if (t.container !== undefined) container(t.container, `${path}.container`, undefined);
  if (t.script !== undefined) {
    container(t.script, `${path}.script`, undefined);
    if (isObject(t.script) && typeof t.script.source !== 'string') bad(`${path}.script.source`, 'required');
  }
  if (t.containerSet !== undefined) checkContainerSet(t.containerSet, `${path}.containerSet`, container, bad);
  if (t.dag !== undefined) checkDag(t.dag, `${path}.dag`, ctx);
}

function checkContainer(c: unknown, path: string, volumes: Set<string>, extraMounts: unknown, ctx: TemplateContext): void {
  const { bad, notHere } = ctx;
  if (!isObject(c)) return bad(path, 'must be an object');
  if (!isStringArray(c.command) || c.command.length === 0) {
    notHere(`${path}.command`, "required: the local engine runs the step's command on this machine and cannot use an image's entrypoint");
  }
  if (c.args !== undefined && !isStringArray(c.args)) bad(`${path}.args`, 'must be a list of strings');
  if (c.env !== undefined) {
    if (!Array.isArray(c.env)) bad(`${path}.env`, 'must be a list');
    else c.env.forEach((e: unknown, i) => {
      if (!isObject(e) || typeof e.name !== 'string') bad(`${path}.env.${i}.name`, 'required');
      else if (e.valueFrom !== undefined) notHere(`${path}.env.${i}.valueFrom`, 'not supported by the local engine');
      else if (e.value !== undefined && typeof e.value !== 'string') bad(`${path}.env.${i}.value`, 'must be a string');
    });
  }
  for (const [mounts, p] of [[c.volumeMounts, `${path}.volumeMounts`], [extraMounts, `${path}.volumeMounts`]] as const) {
    if (mounts === undefined) continue;
    if (!Array.isArray(mounts)) {
      bad(p, 'must be a list');
      continue;
    }
    mounts.forEach((m: unknown, i) => {
      if (!isObject(m) || typeof m.name !== 'string' || typeof m.mountPath !== 'string' || !m.mountPath.startsWith('/')) {
        bad(`${p}.${i}`, 'needs a name and an absolute mountPath');
      } else if (!volumes.has(m.name)) bad(`${p}.${i}.name`, `no volume named "${m.name}"`);
    });
  }
  if (c.workingDir !== undefined && (typeof c.workingDir !== 'string' || !c.workingDir.startsWith('/'))) bad(`${path}.workingDir`, 'must be an absolute path');
}

function checkContainerSet(set: unknown, path: string, container: (c: unknown, p: string, extra: unknown) => void, bad: TemplateContext['bad']): void {
  if (!isObject(set) || !Array.isArray(set.containers) || set.containers.length === 0) return bad(`${path}.containers`, 'must be a non-empty list');
  const names = set.containers.map((c: unknown) => (isObject(c) ? c.name : undefined));
  set.containers.forEach((c: unknown, i) => {
    const p = `${path}.containers.${i}`;
    container(c, p, set.volumeMounts);
    if (typeof names[i] !== 'string') bad(`${p}.name`, 'required');
    else if (names.indexOf(names[i]) !== i) bad(`${p}.name`, `duplicate container "${names[i]}"`);
    const deps = isObject(c) ? c.dependencies : undefined;
    if (deps !== undefined && (!isStringArray(deps) || deps.some((d) => !names.includes(d)))) bad(`${p}.dependencies`, 'must name containers of this set');
  });
  const graph = new Map(set.containers.map((c: unknown) => [isObject(c) ? String(c.name) : '', isObject(c) && isStringArray(c.dependencies) ? c.dependencies : []]));
  const cycle = findCycle(graph);
  if (cycle) bad(`${path}.containers`, `dependency cycle: ${cycle.join(' -> ')}`);
}

function checkDag(dag: unknown, path: string, ctx: TemplateContext): void {
  const { bad, notHere } = ctx;
  if (!isObject(dag) || !Array.isArray(dag.tasks) || dag.tasks.length === 0) return bad(`${path}.tasks`, 'must be a non-empty list');
  const names = dag.tasks.map((t: unknown) => (isObject(t) ? t.name : undefined));
  const graph = new Map<string, string[]>();
  dag.tasks.forEach((task: unknown, i) => {
    const p = `${path}.tasks.${i}`;
    if (!isObject(task)) return bad(p, 'must be an object');
    for (const key of UNSUPPORTED_TASK) if (task[key] !== undefined) notHere(`${p}.${key}`, 'not supported by the local engine');
    if (typeof task.name !== 'string' || !/^[A-Za-z0-9][-A-Za-z0-9_]*$/.test(task.name)) bad(`${p}.name`, 'required: letters, digits, "-" and "_"');
    else if (names.indexOf(task.name) !== i) bad(`${p}.name`, `duplicate task "${task.name}"`);
    if (task.templateRef === undefined && task.inline === undefined) {
      if (typeof task.template !== 'string') bad(`${p}.template`, 'required');
      else if (!ctx.templateNames.has(task.template)) bad(`${p}.template`, `no template named "${task.template}"`);
    }
    normaliseParameters(task.arguments, `${p}.arguments`, bad);
    for (const key of ['when', 'withParam'] as const) if (task[key] !== undefined && typeof task[key] !== 'string') bad(`${p}.${key}`, 'must be a string');
    if (task.withItems !== undefined && !Array.isArray(task.withItems)) bad(`${p}.withItems`, 'must be a list');
    if (task.withItems !== undefined && task.withParam !== undefined) bad(p, 'withItems and withParam cannot both be set');
    let deps: string[] = [];
    if (task.dependencies !== undefined && task.depends !== undefined) bad(p, 'dependencies and depends cannot both be set');
    if (task.dependencies !== undefined) {
      if (!isStringArray(task.dependencies)) bad(`${p}.dependencies`, 'must be a list of task names');
      else deps = task.dependencies;
    } else if (task.depends !== undefined) {
      try {
        deps = dependsTasks(parseDepends(String(task.depends)));
      } catch (error) {
        bad(`${p}.depends`, (error as Error).message);
      }
    }
    for (const d of deps) if (!names.includes(d)) bad(`${p}.dependencies`, `no task named "${d}"`);
    if (typeof task.name === 'string') graph.set(task.name, deps);
  });
  if (dag.target !== undefined) {
    for (const t of String(dag.target).split(' ').filter(Boolean)) if (!names.includes(t)) bad(`${path}.target`, `no task named "${t}"`);
  }
  const cycle = findCycle(graph);
  if (cycle) bad(`${path}.tasks`, `dependency cycle: ${cycle.join(' -> ')}`);
}

function checkVolumes(volumes: unknown, path: string, names: Set<string>, bad: TemplateContext['bad'], notHere: TemplateContext['notHere']): void {
  if (!Array.isArray(volumes)) return bad(path, 'must be a list');
  volumes.forEach((v: unknown, i) => {
    if (!isObject(v) || typeof v.name !== 'string') return bad(`${path}.${i}.name`, 'required');
    names.add(v.name);
    const volume = v as unknown as Volume;
    if (volume.hostPath !== undefined && (!isObject(volume.hostPath) || typeof volume.hostPath.path !== 'string')) bad(`${path}.${i}.hostPath.path`, 'required');
    const kinds = Object.keys(v).filter((k) => k !== 'name');
    const known = ['emptyDir', 'hostPath', 'persistentVolumeClaim'];
    for (const k of kinds) if (!known.includes(k)) notHere(`${path}.${i}.${k}`, `${k} volumes are not supported by the local engine (emptyDir, hostPath and persistentVolumeClaim are)`);
  });
}

/** Parameters' values as strings (YAML gives numbers and booleans); names required. */
function normaliseParameters(holder: unknown, path: string, bad: TemplateContext['bad']): void {
  if (holder === undefined) return;
  if (!isObject(holder)) return bad(path, 'must be an object');
  if (holder.parameters === undefined) return;
  if (!Array.isArray(holder.parameters)) return bad(`${path}.parameters`, 'must be a list');
  holder.parameters.forEach((p: unknown, i) => {
    if (!isObject(p) || typeof p.name !== 'string' || !p.name) return bad(`${path}.parameters.${i}.name`, 'required');
    for (const key of ['value', 'default'] as const) {
      const v = p[key];
      if (v === undefined) continue;
      if (['string', 'number', 'boolean'].includes(typeof v)) p[key] = String(v);
      else p[key] = JSON.stringify(v);
    }
    if (p.enum !== undefined && !Array.isArray(p.enum)) bad(`${path}.parameters.${i}.enum`, 'must be a list');
    else if (Array.isArray(p.enum)) p.enum = p.enum.map(String);
  });
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

function expressionTags(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return /\{\{\s*=/.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => expressionTags(v, `${path}.${i}`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => expressionTags(v, path ? `${path}.${k}` : k));
  return [];
}


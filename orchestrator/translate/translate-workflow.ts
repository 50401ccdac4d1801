import { InvalidInputError } from '../../core/index.ts';
import type { CommandLineTool, Process, Requirement, Workflow } from '../cwl/model.ts';
import { inheritRequirements } from '../workflow/inherit-requirements.ts';
import { sourceStep } from '../workflow/link-values.ts';
import { createNamer } from './argo-names.ts';

/** An Argo `Workflow` as a plain object (io.argoproj.workflow.v1alpha1.Workflow). */
export type ArgoWorkflowManifest = Record<string, unknown> & { apiVersion: 'argoproj.io/v1alpha1'; kind: 'Workflow' };

export interface TranslateOptions {
  /** Names the run's object-store prefix (`runs/<runId>`) and labels the Workflow. */
  runId: string;
  /** Step path (`step`, or `outer/inner` in subworkflows) → the cluster that runs it. */
  placement?: Record<string, string>;
  /** Image of the Archipel step runtime, for control steps and the stage/collect containers. */
  runtimeImage?: string;
  /** Image of tools without a DockerRequirement. */
  defaultToolImage?: string;
  namespace?: string;
  /** The job (input object), carried in the Workflow's `job` parameter for the root prepare step. */
  job?: Record<string, unknown>;
  /**
   * How long one JavaScript expression may run, for every step (`archipel run --eval-timeout`);
   * unset: the step runtime's default (20 s).
   */
  expressionTimeoutMs?: number;
}

export const DEFAULT_RUNTIME_IMAGE = 'ghcr.io/archipel/archipel:latest';
export const DEFAULT_TOOL_IMAGE = 'docker.io/library/debian:stable-slim';
const WORK = '/archipel/work';
/** Where run.sh writes the tool's exit code in the work volume (`archipel step stage`). */
const TOOL_EXIT_CODE = 'exit-code';
export const ANNOTATION_TARGET_CLUSTER = 'archipel.io/target-cluster';
export const LABEL_RUN = 'archipel.io/run-id';

const quantity = (value: unknown, unit: string) => (typeof value === 'number' ? `${Math.ceil(value)}${unit}` : undefined);

/** ResourceRequirement as container resources (static values; expressions are left to the step runtime). */
function resources(requirements: Requirement[]) {
  const r = requirements.find((x) => x.class === 'ResourceRequirement');
  if (!r) return undefined;
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  const cpu = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : `${Math.ceil(v * 1000)}m`) : undefined);
  const set = (target: Record<string, string>, key: string, value: string | undefined) => value !== undefined && (target[key] = value);
  set(requests, 'cpu', cpu(r.coresMin));
  set(limits, 'cpu', cpu(r.coresMax));
  set(requests, 'memory', quantity(r.ramMin, 'Mi'));
  set(limits, 'memory', quantity(r.ramMax, 'Mi'));
  set(requests, 'ephemeral-storage', quantity(typeof r.outdirMin === 'number' && typeof r.tmpdirMin === 'number' ? r.outdirMin + r.tmpdirMin : undefined, 'Mi'));
  if (!Object.keys(requests).length && !Object.keys(limits).length) return undefined;
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

function timeLimit(requirements: Requirement[]): number | undefined {
  const t = requirements.find((x) => x.class === 'ToolTimeLimit')?.timelimit;
  return typeof t === 'number' && t > 0 ? t : undefined;
}

function toolImage(requirements: Requirement[], fallback: string): string {
  const docker = requirements.find((x) => x.class === 'DockerRequirement');
  const image = docker?.dockerPull ?? docker?.dockerImageId;
  return typeof image === 'string' ? image : fallback;
}

/** Admiralty's annotations that send a pod to another cluster, plus Archipel's own naming the target. */
export function placementAnnotations(cluster: string): Record<string, string> {
  return {
    'multicluster.admiralty.io/elect': '',
    'multicluster.admiralty.io/proxy-pod-scheduling-constraints': JSON.stringify({
      nodeSelector: { 'multicluster.admiralty.io/cluster-target-name': cluster },
    }),
    [ANNOTATION_TARGET_CLUSTER]: cluster,
  };
}

/**
 * Translates a CWL workflow into one Argo Workflow: a DAG template per CWL Workflow (nested for
 * subworkflows) in which each step is three tasks — `prepare` (a control step on the origin cluster:
 * evaluates the step's inputs, `when` and `scatter`, writes one job per scatter item to the run's object
 * store and tells Argo the items and whether to run), the step itself (withParam over the items; a
 * tool runs as a containerSet: stage / the tool's image / collect, sharing a volume; a subworkflow as its
 * DAG), and `gather` (a control step merging the items' outputs). Step results travel through the
 * object store, never through Argo output parameters of remote pods. Pure: no I/O.
 */
export function translateWorkflow(workflow: Workflow, options: TranslateOptions): ArgoWorkflowManifest {
  const runtimeImage = options.runtimeImage ?? DEFAULT_RUNTIME_IMAGE;
  const defaultToolImage = options.defaultToolImage ?? DEFAULT_TOOL_IMAGE;
  const placement = options.placement ?? {};
  const name = createNamer();
  const templates: Record<string, unknown>[] = [];
  const used = new Set<string>();
  const evalTimeout = options.expressionTimeoutMs !== undefined ? ['--eval-timeout', String(options.expressionTimeoutMs / 1000)] : [];

  /** A container running an `archipel step` command of the runtime image, with the run's coordinates. */
  const control = (command: string, extra: string[] = [], volumeMounts?: unknown[]) => ({
    image: runtimeImage,
    command: ['archipel', 'step', command],
    args: [
      '--store', '{{workflow.parameters.store}}',
      '--document', '{{workflow.parameters.document}}',
      '--root', '{{workflow.parameters.scope}}',
      '--scope', '{{inputs.parameters.scope}}',
      ...evalTimeout,
      ...extra,
    ],
    ...(volumeMounts ? { volumeMounts } : {}),
  });

  // The control templates are shared by every step.
  templates.push(
    {
      name: 'archipel-prepare',
      inputs: { parameters: [{ name: 'scope' }, { name: 'step' }] },
      // Its decision files become output parameters that Argo's `when` and `withParam` read.
      container: control('prepare', ['--step', '{{inputs.parameters.step}}', '--out', `${WORK}/decision`, '--cache', '{{workflow.parameters.cache}}'], [{ name: 'work', mountPath: WORK }]),
      outputs: {
        parameters: [
          { name: 'run', valueFrom: { path: `${WORK}/decision/run` } },
          { name: 'items', valueFrom: { path: `${WORK}/decision/items` } },
          // How many items took a remembered result instead of running (shown in the run's steps).
          { name: 'reused', valueFrom: { path: `${WORK}/decision/reused`, default: '0' } },
        ],
      },
      volumes: [{ name: 'work', emptyDir: {} }],
    },
    {
      name: 'archipel-gather',
      inputs: { parameters: [{ name: 'scope' }, { name: 'step' }] },
      container: control('gather', ['--step', '{{inputs.parameters.step}}']),
    },
    {
      name: 'archipel-finish',
      inputs: { parameters: [{ name: 'scope' }] },
      container: control('finish'),
    },
    {
      // Expression tools are cheap: one pod evaluates all the items of a step, on the origin cluster.
      name: 'archipel-expression',
      inputs: { parameters: [{ name: 'scope' }, { name: 'step' }, { name: 'items' }] },
      container: control('expression', ['--step', '{{inputs.parameters.step}}', '--items', '{{inputs.parameters.items}}']),
    },
  );

  // Steps that run the same tool under the same requirements on the same cluster share one template:
  // the step path is a parameter, so a workflow of many such steps stays small (Argo's 1 MB object limit).
  const sharedTools = new Map<string, string>();
  const toolTemplate = (path: string, tool: CommandLineTool, requirements: Requirement[]) => {
    const cluster = placement[path];
    if (cluster !== undefined) used.add(path);
    const key = JSON.stringify([tool, requirements, cluster ?? null]);
    const shared = sharedTools.get(key);
    if (shared !== undefined) return shared;
    const templateName = name(`tool-${tool.id}${sharedTools.size ? `-${sharedTools.size}` : ''}`);
    sharedTools.set(key, templateName);
    const deadline = timeLimit(requirements);
    const res = resources(requirements);
    const runtime = (command: string, deps: string[]) => ({
      name: command,
      ...control(command, ['--step', '{{inputs.parameters.step}}', '--item', '{{inputs.parameters.item}}', '--work', WORK]),
      ...(deps.length ? { dependencies: deps } : {}),
    });
    templates.push({
      name: templateName,
      inputs: { parameters: [{ name: 'scope' }, { name: 'item' }, { name: 'step' }, { name: 'step-label' }] },
      // The tool's own exit code (the main container ends 0 so that collect can judge it by CWL's codes).
      outputs: { parameters: [{ name: 'tool-exit-code', valueFrom: { path: `${WORK}/${TOOL_EXIT_CODE}`, default: '' } }] },
      metadata: {
        labels: { 'archipel.io/step': '{{inputs.parameters.step-label}}' },
        annotations: { 'archipel.io/cwl-step': '{{inputs.parameters.step}}', 'archipel.io/cwl-tool': tool.id, ...(cluster !== undefined ? placementAnnotations(cluster) : {}) },
      },
      // IntOrString in Argo's schema: a string always validates.
      ...(deadline !== undefined ? { activeDeadlineSeconds: String(deadline) } : {}),
      volumes: [{ name: 'work', emptyDir: {} }],
      containerSet: {
        volumeMounts: [{ name: 'work', mountPath: WORK }],
        containers: [
          runtime('stage', []),
          {
            // The stage container wrote the command line; the tool's exit code is recorded for collect.
            name: 'main',
            image: toolImage(requirements, defaultToolImage),
            command: ['/bin/sh', `${WORK}/run.sh`],
            dependencies: ['stage'],
            ...(res ? { resources: res } : {}),
          },
          runtime('collect', ['main']),
        ],
      },
    });
    return templateName;
  };

  /** `wf` carries the requirements and hints it inherits, as a step's process does in the runtime. */
  const dagTemplate = (wf: Workflow, path: string): string => {
    const templateName = name(path ? `wf-${path}` : 'main');
    const tasks: Record<string, unknown>[] = [];
    const scope = '{{inputs.parameters.scope}}';
    // Task names are a DAG's own: the finish task keeps its name, and a step named `finish` or
    // `a-prepare` gets a distinct one rather than a duplicate.
    const task = createNamer();
    const finishTask = task('finish', 'finish:');
    const gatherTask = new Map<string, string>();
    for (const step of wf.steps) gatherTask.set(step.id, task(`${step.id}-gather`, `gather:${step.id}`));

    for (const step of wf.steps) {
      const stepPath = path ? `${path}/${step.id}` : step.id;
      const upstream = [...new Set(step.in.flatMap((i) => i.source.map((s) => sourceStep(s, wf)).filter((s): s is string => s !== undefined)))];
      for (const dep of upstream) {
        if (!gatherTask.has(dep)) throw new InvalidInputError(`step ${stepPath} reads from unknown step "${dep}"`, [{ path: `steps.${stepPath}.in`, message: `unknown step "${dep}"` }]);
      }
      const prepare = task(`${step.id}-prepare`, `prepare:${step.id}`);
      const run = task(step.id, `run:${step.id}`);
      const inherited = inheritRequirements(wf, step);
      // Hints first: a requirement of the same class wins.
      const requirements = [...inherited.hints, ...inherited.requirements];
      tasks.push({
        name: prepare,
        template: 'archipel-prepare',
        ...(upstream.length ? { dependencies: upstream.map((d) => gatherTask.get(d)!) } : {}),
        arguments: { parameters: [{ name: 'scope', value: scope }, { name: 'step', value: stepPath }] },
      });
      const itemScope = `${scope}/${step.id}/{{item}}`;
      let template: string;
      let parameters: { name: string; value: string }[];
      if (step.run.class === 'Workflow') {
        template = dagTemplate({ ...step.run, ...inherited }, stepPath);
        parameters = [{ name: 'scope', value: itemScope }];
      } else if (step.run.class === 'ExpressionTool') {
        template = 'archipel-expression';
        parameters = [{ name: 'scope', value: scope }, { name: 'step', value: stepPath }, { name: 'items', value: `{{tasks.${prepare}.outputs.parameters.items}}` }];
      } else {
        template = toolTemplate(stepPath, step.run, requirements);
        parameters = [
          { name: 'scope', value: scope },
          { name: 'item', value: '{{item}}' },
          { name: 'step', value: stepPath },
          { name: 'step-label', value: name(stepPath) },
        ];
      }
      tasks.push({
        name: run,
        template,
        dependencies: [prepare],
        when: `{{tasks.${prepare}.outputs.parameters.run}} == true`,
        ...(step.run.class === 'ExpressionTool' ? {} : { withParam: `{{tasks.${prepare}.outputs.parameters.items}}` }),
        arguments: { parameters },
      });
      tasks.push({
        name: gatherTask.get(step.id)!,
        template: 'archipel-gather',
        dependencies: [run],
        arguments: { parameters: [{ name: 'scope', value: scope }, { name: 'step', value: stepPath }] },
      });
    }
    const finalDeps = [...new Set(wf.outputs.flatMap((o) => (o.outputSource ?? []).map((s) => sourceStep(s, wf)).filter((s): s is string => s !== undefined)))];
    tasks.push({
      name: finishTask,
      template: 'archipel-finish',
      ...(finalDeps.length ? { dependencies: finalDeps.map((d) => gatherTask.get(d)!) } : {}),
      arguments: { parameters: [{ name: 'scope', value: scope }] },
    });
    templates.push({ name: templateName, inputs: { parameters: [{ name: 'scope' }] }, dag: { tasks } });
    return templateName;
  };

  const entry = dagTemplate(workflow, '');
  const unknown = Object.keys(placement).filter((p) => !used.has(p));
  if (unknown.length) {
    throw new InvalidInputError(`--place names steps that are not command-line tool steps of this workflow: ${unknown.join(', ')}`, unknown.map((p) => ({ path: `--place ${p}`, message: 'no such command-line tool step' })));
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      generateName: `${name(workflow.id.replace(/\.cwl$/, '')).slice(0, 40)}-`,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels: { [LABEL_RUN]: options.runId, 'app.kubernetes.io/managed-by': 'archipel' },
      annotations: { 'archipel.io/cwl-process': workflow.id },
    },
    spec: {
      entrypoint: 'run',
      arguments: {
        parameters: [
          { name: 'store', description: 'URL of the run\'s object store (s3://bucket/prefix)' },
          { name: 'document', value: `runs/${options.runId}/process.json`, description: 'Object-store key of the normalised CWL process' },
          { name: 'scope', value: `runs/${options.runId}` },
          { name: 'cache', value: '', description: 'Object-store prefix of the result cache (a project\'s); empty: results are not reused' },
          ...(options.job ? [{ name: 'job', value: JSON.stringify(options.job), description: 'The CWL input object' }] : []),
        ],
      },
      templates: [
        {
          name: 'run',
          dag: {
            tasks: [{ name: 'workflow', template: entry, arguments: { parameters: [{ name: 'scope', value: '{{workflow.parameters.scope}}' }] } }],
          },
        },
        ...templates,
      ],
    },
  };
}

/** Wraps a single tool into a one-step workflow (its step named `stepId`), so that `argo export` and runs treat it alike. */
export function asWorkflow(process: Process, stepId = 'tool'): Workflow {
  if (process.class === 'Workflow') return process;
  return {
    ...process,
    class: 'Workflow',
    id: process.id.replace(/\.cwl$/, ''),
    requirements: [],
    hints: [],
    steps: [
      {
        id: stepId,
        in: process.inputs.map((i) => ({ id: i.id, source: [i.id] })),
        out: process.outputs.map((o) => o.id),
        run: process,
        requirements: [],
        hints: [],
        scatter: [],
      },
    ],
    outputs: process.outputs.map((o) => ({ id: o.id, type: o.type, outputSource: [`${stepId}/${o.id}`] })),
  };
}

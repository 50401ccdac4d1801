import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/index.ts';
import { validateArgoWorkflow } from '../argo/workflow-schema.ts';
import { checkManifest } from '../engine/check-manifest.ts';
import { loadCwlProcess } from '../cwl/load/load-process.ts';
import type { Workflow } from '../cwl/model.ts';
import { asWorkflow, translateWorkflow } from './translate-workflow.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-translate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

write(
  'align.cwl',
  `cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: "quay.io/biocontainers/bwa:0.7.17"}
  ResourceRequirement: {coresMin: 2, ramMin: 4096, ramMax: 8192}
  ToolTimeLimit: {timelimit: 600}
inputs:
  reads: File
outputs:
  bam: {type: File, outputBinding: {glob: out.bam}}
baseCommand: bwa
`,
);
write(
  'sub.cwl',
  `cwlVersion: v1.2
class: Workflow
inputs:
  reads: File
outputs:
  bam: {type: File, outputSource: inner_align/bam}
steps:
  inner_align:
    run: align.cwl
    in: {reads: reads}
    out: [bam]
`,
);
const main = write(
  'main.cwl',
  `cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
  SubworkflowFeatureRequirement: {}
  InlineJavascriptRequirement: {}
inputs:
  samples: File[]
  merge: boolean
outputs:
  merged: {type: File?, outputSource: Merge_All/bam}
steps:
  align:
    run: align.cwl
    scatter: reads
    in: {reads: samples}
    out: [bam]
  Merge_All:
    run: align.cwl
    when: $(inputs.go)
    in:
      reads: {source: align/bam, valueFrom: "$(self[0])"}
      go: merge
    out: [bam]
  nested:
    run: sub.cwl
    in: {reads: {source: samples, valueFrom: "$(self[0])"}}
    out: [bam]
`,
);

type Manifest = { metadata: Record<string, unknown>; spec: { entrypoint: string; templates: Record<string, any>[] } }; // eslint-disable-line @typescript-eslint/no-explicit-any
const templatesOf = (m: unknown) => (m as Manifest).spec.templates;
const template = (m: unknown, name: string) => templatesOf(m).find((t) => t.name === name)!;
/** The DAG tasks that run a step's tool (not its prepare or gather), each with the step path it passes. */
const stepTasks = (m: unknown) =>
  templatesOf(m)
    .flatMap((t) => (t.dag?.tasks ?? []) as { template: string; arguments?: { parameters?: { name: string; value: string }[] } }[])
    .filter((task) => !task.template.startsWith('archipel-'))
    .map((task) => ({ task, step: task.arguments?.parameters?.find((p) => p.name === 'step')?.value }))
    .filter((x): x is { task: (typeof x)['task']; step: string } => x.step !== undefined);
/** The template that runs a step's tool, found through the task that passes it the step path. */
const stepTemplate = (m: unknown, step: string) => template(m, stepTasks(m).find((x) => x.step === step)!.task.template);

describe('CWL → Argo translation', async () => {
  const workflow = (await loadCwlProcess(main)) as Workflow;
  const manifest = translateWorkflow(workflow, { runId: 'r1', placement: { align: 'lab-b', 'nested/inner_align': 'lab-c' } });

  it('produces a Workflow that validates against Argo’s schema', () => {
    expect(validateArgoWorkflow(manifest), JSON.stringify(validateArgoWorkflow(manifest))).toEqual({ valid: true });
    expect(manifest.metadata).toMatchObject({ generateName: 'main-', labels: { 'archipel.io/run-id': 'r1' } });
  });

  it('gives each step prepare, run and gather tasks, wired by data dependencies', () => {
    const tasks = template(manifest, 'main').dag.tasks as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const byName = Object.fromEntries(tasks.map((t) => [t.name, t]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['align-prepare', 'align', 'align-gather', 'finish']));
    const merge = tasks.find((t) => t.name.startsWith('merge-all') && !t.name.includes('prepare') && !t.name.includes('gather'))!;
    const mergePrepare = tasks.find((t) => t.name.startsWith('merge-all-prepare'))!;
    expect(mergePrepare.dependencies).toEqual(['align-gather']);
    expect(merge.when).toBe(`{{tasks.${mergePrepare.name}.outputs.parameters.run}} == true`);
    expect(merge.withParam).toBe(`{{tasks.${mergePrepare.name}.outputs.parameters.items}}`);
    expect(byName['align-prepare'].dependencies).toBeUndefined();
    expect(byName.align.withParam).toBe('{{tasks.align-prepare.outputs.parameters.items}}');
    const finish = byName.finish;
    expect(finish.dependencies).toEqual([tasks.find((t) => t.name.startsWith('merge-all-gather'))!.name]);
  });

  it('runs each tool as stage / tool image / collect, with its resources and time limit', () => {
    const align = stepTemplate(manifest, 'align');
    expect(align.activeDeadlineSeconds).toBe('600');
    // The step path reaches the pod's annotation and the step runtime as a parameter.
    expect(align.metadata.annotations['archipel.io/cwl-step']).toBe('{{inputs.parameters.step}}');
    expect(align.containerSet.containers[0].args).toEqual(expect.arrayContaining(['--step', '{{inputs.parameters.step}}']));
    const [stage, tool, collect] = align.containerSet.containers;
    expect([stage.name, tool.name, collect.name]).toEqual(['stage', 'main', 'collect']);
    expect(tool.image).toBe('quay.io/biocontainers/bwa:0.7.17');
    expect(tool.dependencies).toEqual(['stage']);
    expect(collect.dependencies).toEqual(['main']);
    expect(tool.resources).toEqual({ requests: { cpu: '2', memory: '4096Mi' }, limits: { memory: '8192Mi' } });
  });

  it('nests subworkflows as DAG templates', () => {
    const nestedTask = (template(manifest, 'main').dag.tasks as { name: string; template: string }[]).find((t) => t.name === 'nested')!;
    const nested = template(manifest, nestedTask.template);
    const names = nested.dag.tasks.map((t: { name: string }) => t.name) as string[];
    expect(names.some((n) => n.startsWith('inner-align-prepare'))).toBe(true);
    expect(names).toContain('finish');
    expect(nestedTask.template).not.toBe('main');
    // The nested tool's template knows its full step path (for placement and the object-store scope).
    expect(stepTemplate(manifest, 'nested/inner_align').containerSet).toBeDefined();
  });

  it('carries Admiralty placement on exactly the placed steps, and Archipel’s target annotation', () => {
    const placedSteps = stepTasks(manifest).filter((x) => template(manifest, x.task.template).metadata?.annotations?.['multicluster.admiralty.io/elect'] !== undefined);
    expect(placedSteps.map((x) => x.step).sort()).toEqual(['align', 'nested/inner_align']);
    const align = stepTemplate(manifest, 'align');
    expect(JSON.parse(align.metadata.annotations['multicluster.admiralty.io/proxy-pod-scheduling-constraints'])).toEqual({
      nodeSelector: { 'multicluster.admiralty.io/cluster-target-name': 'lab-b' },
    });
    expect(align.metadata.annotations['archipel.io/target-cluster']).toBe('lab-b');
    // Control steps never leave the origin cluster.
    for (const t of templatesOf(manifest).filter((x) => x.name.startsWith('archipel-'))) expect(t.metadata).toBeUndefined();
    const unplaced = translateWorkflow(workflow, { runId: 'r2' });
    expect(JSON.stringify(unplaced)).not.toContain('multicluster.admiralty.io');
  });

  it('shares one template between steps running the same tool on the same cluster, and keeps placed ones apart', () => {
    // Merge_All runs align.cwl as align does, but stays here while align goes to lab-b.
    expect(stepTemplate(manifest, 'Merge_All').name).not.toBe(stepTemplate(manifest, 'align').name);
    const unplaced = translateWorkflow(workflow, { runId: 'r2' });
    expect(stepTemplate(unplaced, 'Merge_All').name).toBe(stepTemplate(unplaced, 'align').name);
    expect(validateArgoWorkflow(unplaced)).toEqual({ valid: true });
  });

  it('refuses a placement naming a step that does not exist', () => {
    expect(() => translateWorkflow(workflow, { runId: 'r3', placement: { nope: 'lab-b' } })).toThrow(InvalidInputError);
    expect(() => translateWorkflow(workflow, { runId: 'r3', placement: { nope: 'lab-b' } })).toThrow(/nope/);
  });

  it('uses DNS-label names for every template and task', () => {
    const names = templatesOf(manifest).flatMap((t) => [t.name, ...((t.dag?.tasks ?? []) as { name: string }[]).map((x) => x.name)]);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(new Set(templatesOf(manifest).map((t) => t.name)).size).toBe(templatesOf(manifest).length);
  });

  it('names tasks apart when steps are called like the tasks the translation adds (finish, a-prepare)', async () => {
    const echo = "{class: CommandLineTool, baseCommand: echo, inputs: {m: string}, outputs: {o: stdout}, stdout: o.txt}";
    const file = write(
      'names.cwl',
      `cwlVersion: v1.2\nclass: Workflow\ninputs: {m: string}\noutputs: {o: {type: File, outputSource: finish/o}}\nsteps:\n` +
        ['a', 'a-prepare', 'a-gather', 'finish'].map((id) => `  ${id}:\n    run: ${echo}\n    in: {m: m}\n    out: [o]\n`).join(''),
    );
    const named = translateWorkflow((await loadCwlProcess(file)) as Workflow, { runId: 'r3' });
    // The local engine refuses duplicate task names and cycles, as Argo's controller does.
    expect(() => checkManifest(named)).not.toThrow();
    type Task = { name: string; template: string; dependencies?: string[]; arguments?: { parameters?: { name: string; value: string }[] } };
    const tasks = templatesOf(named).find((t) => t.name === 'main')!.dag!.tasks as Task[];
    expect(new Set(tasks.map((t) => t.name)).size).toBe(tasks.length);
    const gatherOf = (step: string) => tasks.find((t) => t.template === 'archipel-gather' && t.arguments?.parameters?.some((p) => p.name === 'step' && p.value === step))!.name;
    // The workflow's finish task waits for step finish's outputs.
    expect(tasks.find((t) => t.name === 'finish')).toMatchObject({ template: 'archipel-finish', dependencies: [gatherOf('finish')] });
  });

  it('gives every step command the run’s expression time limit (archipel run --eval-timeout), and none by default', () => {
    /** The args of every `archipel step` container, control steps and a tool's stage/collect alike. */
    const stepCommands = (m: unknown) =>
      templatesOf(m)
        .flatMap((t) => [t.container, ...(t.containerSet?.containers ?? [])])
        .filter((c): c is { command: string[]; args: string[] } => c?.command?.[0] === 'archipel');
    const limited = translateWorkflow(workflow, { runId: 'r5', expressionTimeoutMs: 1500 });
    expect(validateArgoWorkflow(limited)).toEqual({ valid: true });
    const commands = stepCommands(limited);
    expect(commands.map((c) => c.command[2]).sort()).toEqual(expect.arrayContaining(['collect', 'expression', 'finish', 'gather', 'prepare', 'stage']));
    for (const c of commands) expect(c.args.join(' '), c.command.join(' ')).toContain('--eval-timeout 1.5');
    for (const c of stepCommands(manifest)) expect(c.args).not.toContain('--eval-timeout');
  });

  it('wraps a single tool as a one-step workflow', async () => {
    const tool = await loadCwlProcess(path.join(dir, 'align.cwl'));
    const wrapped = translateWorkflow(asWorkflow(tool), { runId: 'r4' });
    expect(validateArgoWorkflow(wrapped)).toEqual({ valid: true });
    expect(JSON.stringify(wrapped)).toContain('quay.io/biocontainers/bwa:0.7.17');
  });
});

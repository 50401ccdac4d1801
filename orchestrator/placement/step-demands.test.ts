import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCwlProcess } from '../cwl/index.ts';
import { asWorkflow } from '../translate/index.ts';
import { stepDemands } from './step-demands.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-demands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(text: string) {
  const file = path.join(dir, `wf-${Math.random().toString(36).slice(2)}.cwl`);
  writeFileSync(file, text);
  return asWorkflow(await loadCwlProcess(file, dir));
}

const WORKFLOW = `cwlVersion: v1.2
class: Workflow
$namespaces:
  cwltool: "http://commonwl.org/cwltool#"
  arc: "https://archipel.io/cwl#"
requirements:
  SubworkflowFeatureRequirement: {}
  ResourceRequirement: {coresMin: 2, ramMin: 1024}
inputs: {n: int}
outputs: {}
steps:
  align:
    in: {n: n}
    out: [out]
    hints:
      cwltool:CUDARequirement: {cudaVersionMin: "11.4", cudaComputeCapability: "3.0", cudaDeviceCountMin: 2}
      arc:Placement: {cluster: clusterB}
    run:
      class: CommandLineTool
      baseCommand: "true"
      inputs: {n: int}
      outputs: {out: stdout}
  sort:
    in: {x: align/out}
    out: [out]
    run:
      class: CommandLineTool
      requirements:
        ResourceRequirement: {coresMin: $(1 + 1), ramMin: 4096}
      hints:
        arc:GPURequirement: {count: 1}
      baseCommand: "true"
      inputs: {x: File}
      outputs: {out: stdout}
  inner:
    in: {x: sort/out}
    out: []
    run:
      class: Workflow
      inputs: {x: File}
      outputs: {}
      steps:
        report:
          in: {x: x}
          out: []
          hints:
            arc:Placement: {avoid: [clusterC]}
          run:
            class: CommandLineTool
            baseCommand: "true"
            inputs: {x: File}
            outputs: {}
`;

describe('what each tool step asks of the federation', () => {
  it("reads resources, GPUs (cwltool's CUDA hint, Archipel's GPU hint) and placement hints, subworkflows walked into", async () => {
    const demands = stepDemands(await load(WORKFLOW));
    expect(demands).toEqual([
      { step: 'align', requests: { cores: 2, memoryMiB: 1024, gpus: 2 }, reads: [], after: [], pin: 'clusterB' },
      // An expression is known only when the step runs: the CWL default stands in for it.
      { step: 'sort', requests: { cores: 1, memoryMiB: 4096, gpus: 1 }, reads: [], after: [{ step: 'align', bytes: 0 }] },
      { step: 'inner/report', requests: { cores: 2, memoryMiB: 1024, gpus: 0 }, reads: [], after: [], avoid: ['clusterC'] },
    ]);
  });

  it("takes the run request's placement over the document's, and refuses one naming no tool step", async () => {
    const workflow = await load(WORKFLOW);
    const demands = stepDemands(workflow, { align: { cluster: 'clusterC' }, 'inner/report': { avoid: [] } });
    expect(demands.find((d) => d.step === 'align')!.pin).toBe('clusterC');
    expect(demands.find((d) => d.step === 'inner/report')!.avoid).toEqual([]);
    expect(() => stepDemands(workflow, { inner: { cluster: 'x' }, nope: {} })).toThrow('placement names steps that are not command-line tool steps of this workflow: inner, nope');
  });

  it('refuses a malformed placement hint, naming the step', async () => {
    const bad = WORKFLOW.replace('arc:Placement: {cluster: clusterB}', 'arc:Placement: {cluster: [1, 2]}');
    await expect(load(bad).then((wf) => stepDemands(wf))).rejects.toThrow('steps.align: the Placement hint takes cluster (a cluster id) and avoid (a list of cluster ids)');
  });
});

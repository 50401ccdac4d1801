import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCwlProcess } from '../cwl/load/load-process.ts';
import type { Workflow } from '../cwl/model.ts';
import { stepPaths, stepShapes } from './step-states.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-step-shapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOOL = `{class: CommandLineTool, baseCommand: echo, inputs: {x: {type: string, inputBinding: {}}}, outputs: {out: stdout}}`;

describe('step shapes', () => {
  it('give each step, inside subworkflows too, what it runs, whether it scatters and the steps it reads from', async () => {
    const file = path.join(dir, 'wf.cwl');
    writeFileSync(
      file,
      `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}, SubworkflowFeatureRequirement: {}, StepInputExpressionRequirement: {}, MultipleInputFeatureRequirement: {}}
inputs: {words: 'string[]'}
outputs: {}
steps:
  first:
    run: ${TOOL}
    scatter: x
    in: {x: words}
    out: [out]
  inner:
    in: {w: words, prior: first/out}
    out: [res]
    run:
      class: Workflow
      inputs: {w: 'string[]', prior: Any}
      outputs: {res: {type: File, outputSource: b/out}}
      steps:
        a: {run: ${TOOL}, in: {x: {source: w, valueFrom: '$(self[0])'}}, out: [out]}
        b: {run: ${TOOL}, in: {x: {source: [a/out, w], valueFrom: 'b'}}, out: [out]}
  last:
    run: ${TOOL}
    in: {x: {source: [first/out, inner/res, words], valueFrom: 'z'}}
    out: [out]
`,
    );
    const workflow = (await loadCwlProcess(file)) as Workflow;
    const shapes = stepShapes(workflow);
    expect(stepPaths(workflow).map((s) => [s, shapes.get(s)])).toEqual([
      ['first', { kind: 'CommandLineTool', scatter: true, needs: [] }],
      ['inner', { kind: 'Workflow', scatter: false, needs: ['first'] }],
      ['inner/a', { kind: 'CommandLineTool', scatter: false, needs: [] }],
      ['inner/b', { kind: 'CommandLineTool', scatter: false, needs: ['inner/a'] }],
      ['last', { kind: 'CommandLineTool', scatter: false, needs: ['first', 'inner'] }],
    ]);
  });
});

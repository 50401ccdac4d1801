import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDirectoryObjectStore } from '../../platform/object-store/index.ts';
import { loadCwlProcess } from '../cwl/load/load-process.ts';
import type { Workflow } from '../cwl/model.ts';
import { finishScope, gatherStep, prepareStep, workflowOfScope, type ControlContext } from './control-steps.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  path.join(dir, 'echo.cwl'),
  'cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  word: string\n  times: int?\noutputs:\n  said: string\nbaseCommand: echo\n',
);
writeFileSync(
  path.join(dir, 'inner.cwl'),
  'cwlVersion: v1.2\nclass: Workflow\ninputs:\n  word: string\noutputs:\n  said: {type: string, outputSource: say/said}\nsteps:\n  say: {run: echo.cwl, in: {word: word}, out: [said]}\n',
);
writeFileSync(
  path.join(dir, 'main.cwl'),
  `cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
  InlineJavascriptRequirement: {}
  StepInputExpressionRequirement: {}
  SubworkflowFeatureRequirement: {}
inputs:
  words: string[]
  loud: {type: boolean, default: false}
outputs:
  said: {type: "string[]", outputSource: say/said}
  shout: {type: "string?", outputSource: shout/said}
steps:
  say:
    run: echo.cwl
    scatter: word
    in: {word: words, times: {default: 2}}
    out: [said]
  shout:
    run: echo.cwl
    when: $(inputs.loud)
    in:
      word: {source: say/said, valueFrom: "$(self.join(' ').toUpperCase())"}
      loud: loud
    out: [said]
  nested:
    run: inner.cwl
    in: {word: {source: words, valueFrom: "$(self[0])"}}
    out: [said]
`,
);

describe('control steps of a translated workflow', async () => {
  const root = (await loadCwlProcess(path.join(dir, 'main.cwl'))) as Workflow;
  const store = createDirectoryObjectStore({ root: path.join(dir, 'store') });
  const ctx: ControlContext = { store, root, rootScope: 'runs/r1' };
  const put = (key: string, value: unknown) => store.put(key, Buffer.from(JSON.stringify(value)));
  const get = async (key: string) => {
    const { body } = await store.get(key);
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  };

  it('prepares one job per scatter item, with step defaults, and tells Argo to run them all', async () => {
    await put('runs/r1/job.json', { words: ['a', 'b', 'c'] });
    expect(await prepareStep(ctx, 'runs/r1', 'say')).toEqual({ run: true, items: [0, 1, 2], reused: 0 });
    expect(await get('runs/r1/say/1/job.json')).toEqual({ word: 'b', times: 2 });
    expect(await get('runs/r1/say/plan.json')).toEqual({ shape: [3], run: [true, true, true] });
  });

  it('gathers the items’ outputs in order', async () => {
    for (const [i, w] of ['a', 'b', 'c'].entries()) await put(`runs/r1/say/${i}/outputs.json`, { said: `${w}\n` });
    expect(await gatherStep(ctx, 'runs/r1', 'say')).toEqual({ said: ['a\n', 'b\n', 'c\n'] });
  });

  it('skips a step whose when is false (workflow defaults apply), and gathers nulls for it', async () => {
    expect(await prepareStep(ctx, 'runs/r1', 'shout')).toEqual({ run: false, items: [], reused: 0 });
    expect(await get('runs/r1/shout/0/job.json')).toMatchObject({ word: 'A\n B\n C\n', loud: false });
    expect(await gatherStep(ctx, 'runs/r1', 'shout')).toEqual({ said: null });
  });

  it('scopes a subworkflow under its step and item, and finishes each scope with its outputs', async () => {
    expect(await prepareStep(ctx, 'runs/r1', 'nested')).toEqual({ run: true, items: [0], reused: 0 });
    expect(workflowOfScope(ctx, 'runs/r1/nested/0').steps.map((s) => s.id)).toEqual(['say']);
    expect(await prepareStep(ctx, 'runs/r1/nested/0', 'nested/say')).toEqual({ run: true, items: [0], reused: 0 });
    expect(await get('runs/r1/nested/0/say/0/job.json')).toEqual({ word: 'a' });
    await put('runs/r1/nested/0/say/0/outputs.json', { said: 'a\n' });
    await gatherStep(ctx, 'runs/r1/nested/0', 'nested/say');
    expect(await finishScope(ctx, 'runs/r1/nested/0')).toEqual({ said: 'a\n' });
    expect(await finishScope(ctx, 'runs/r1')).toEqual({ said: ['a\n', 'b\n', 'c\n'], shout: null });
    expect(await get('runs/r1/outputs.json')).toEqual({ said: ['a\n', 'b\n', 'c\n'], shout: null });
  });

  it('refuses a scope outside the run and a step that does not exist', async () => {
    expect(() => workflowOfScope(ctx, 'runs/other')).toThrow(/not inside the run's scope/);
    await expect(prepareStep(ctx, 'runs/r1', 'nope')).rejects.toThrow(/no step "nope"/);
  });
});

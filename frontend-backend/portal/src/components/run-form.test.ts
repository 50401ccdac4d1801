import { describe, expect, it } from 'vitest';
import type { RunStep } from '../api/client';
import { parseCwlType, unwrapOptional } from './cwl-types';
import { documentInputs } from './document-inputs';
import { initialValues, toJob } from './InputsForm';
import { layoutRun } from './run-layout';

describe('the run form', () => {
  it('reads CWL types in each of their spellings', () => {
    expect(parseCwlType('File?')).toEqual({ kind: 'union', options: [{ kind: 'null' }, { kind: 'File' }] });
    expect(parseCwlType('int[]')).toEqual({ kind: 'array', items: { kind: 'int' } });
    expect(parseCwlType({ type: 'enum', symbols: ['#main/mode/fast', '#main/mode/slow'] })).toEqual({ kind: 'enum', symbols: ['fast', 'slow'] });
    expect(parseCwlType({ type: 'record', fields: [{ name: '#r/depth', type: 'int', doc: 'how deep' }] })).toEqual({ kind: 'record', fields: [{ name: 'depth', type: { kind: 'int' }, doc: 'how deep' }] });
    expect(unwrapOptional(parseCwlType(['null', 'string']))).toEqual({ type: { kind: 'string' }, optional: true });
    expect(parseCwlType('org.example.Custom')).toEqual({ kind: 'any' });
  });

  it("takes a pasted document's inputs, in list or map form, with their defaults and docs", () => {
    const read = documentInputs('class: CommandLineTool\ninputs:\n  reads: {type: File, doc: FASTQ}\n  depth: {type: "int?", default: 3}\n  mode: string\n');
    expect(read).toEqual({
      inputs: [
        { id: 'reads', type: 'File', required: true, doc: 'FASTQ' },
        { id: 'depth', type: 'int?', required: false, default: 3 },
        { id: 'mode', type: 'string', required: true },
      ],
    });
    expect(documentInputs('inputs: [')).toMatchObject({ problem: expect.stringMatching(/^not YAML or JSON/) });
    expect(documentInputs('just: text')).toEqual({ problem: 'not a CWL process: it has no "class"' });
  });

  it('builds the job, uploading chosen files, or names every problem at once and uploads nothing', async () => {
    const params = [
      { id: 'reads', type: 'File', required: true },
      { id: 'depth', type: 'int', required: true },
      { id: 'ratio', type: 'float?', required: false },
      { id: 'mode', type: { type: 'enum', symbols: ['fast', 'slow'] }, required: true, default: 'fast' },
      { id: 'samples', type: 'string[]', required: true },
      { id: 'ref', type: 'Directory', required: true },
    ];
    const uploaded: string[] = [];
    const upload = async (file: File) => {
      uploaded.push(file.name);
      return `archipel:files/${file.name}`;
    };
    const values = initialValues(params);
    expect(values.mode).toBe('fast');
    const bad = await toJob(params, { ...values, reads: { file: new File(['x'], 'r.fq') }, depth: '2.5', ref: { location: '/etc' } }, upload);
    expect(bad).toEqual({ problems: { depth: 'must be a whole number', samples: 'required', ref: 'must be an upload or a location such as archipel:catalog/<entry id>/<path>' } });
    expect(uploaded).toEqual([]);

    const good = await toJob(params, { ...values, reads: { file: new File(['x'], 'r.fq') }, depth: ' 7 ', samples: ['a', 'b'], ref: { location: 'archipel:catalog/e1/genome' } }, upload);
    expect(good).toEqual({
      job: { reads: { class: 'File', location: 'archipel:files/r.fq' }, depth: 7, mode: 'fast', samples: ['a', 'b'], ref: { class: 'Directory', location: 'archipel:catalog/e1/genome' } },
    });
    expect(uploaded).toEqual(['r.fq']);
  });
});

describe('the run DAG', () => {
  const step = (path: string, needs: string[] = [], kind: RunStep['kind'] = 'CommandLineTool'): RunStep => ({ step: path, phase: 'Pending', cluster: 'c', items: { total: 0, succeeded: 0, failed: 0, running: 0, reused: 0 }, kind, needs });
  const steps = [step('a'), step('sub', ['a'], 'Workflow'), step('sub/x'), step('sub/y', ['sub/x']), step('b', ['sub'])];

  it("draws a subworkflow as one step until it is opened, then its own steps linked from it", () => {
    const closed = layoutRun(steps, new Set());
    expect(closed.placed.map((p) => p.step.step)).toEqual(['a', 'sub', 'b']);
    expect(closed.edges).toEqual([
      { from: 'a', to: 'sub' },
      { from: 'sub', to: 'b' },
    ]);
    const open = layoutRun(steps, new Set(['sub']));
    expect(open.placed.map((p) => p.step.step)).toEqual(['a', 'sub', 'sub/x', 'sub/y', 'b']);
    expect(open.edges).toContainEqual({ from: 'sub', to: 'sub/x' });
    expect(open.edges).toContainEqual({ from: 'sub/x', to: 'sub/y' });
    // Left to right: each step after the ones it reads from.
    const x = new Map(open.placed.map((p) => [p.step.step, p.x]));
    expect(x.get('a')! < x.get('sub')! && x.get('sub')! < x.get('sub/x')! && x.get('sub/x')! < x.get('sub/y')!).toBe(true);
  });
});

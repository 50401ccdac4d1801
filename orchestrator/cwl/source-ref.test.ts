import { describe, expect, it } from 'vitest';
import { parseSource } from './source-ref.ts';

describe('parseSource', () => {
  it('reads inputs, step outputs and absolute references relative to the workflow', () => {
    const wf = { id: 'main' };
    expect(parseSource('reads', wf)).toEqual({ kind: 'input', name: 'reads' });
    expect(parseSource('align/bam', wf)).toEqual({ kind: 'step', step: 'align', output: 'bam' });
    expect(parseSource('#main/reads', wf)).toEqual({ kind: 'input', name: 'reads' });
    expect(parseSource('#main/align/bam', wf)).toEqual({ kind: 'step', step: 'align', output: 'bam' });
    expect(parseSource('main/align/bam', wf)).toEqual({ kind: 'step', step: 'align', output: 'bam' });
  });

  it('reads a relative step/output as the step, when the step is named like the workflow', () => {
    // A tool `id: show` run as a one-step workflow: the workflow and its step are both `show`.
    const wf = { id: 'show' };
    expect(parseSource('show/out', wf)).toEqual({ kind: 'step', step: 'show', output: 'out' });
    expect(parseSource('#show/show/out', wf)).toEqual({ kind: 'step', step: 'show', output: 'out' });
    expect(parseSource('#show/out', wf)).toEqual({ kind: 'input', name: 'out' });
  });
});

import { describe, expect, it } from 'vitest';
import { argoNodeId, argoPodName } from './pod-names.ts';

describe('Argo node and pod names', () => {
  // 0xe40c292c and 0xbf9cf968 are the FNV-1a 32-bit test vectors for "a" and "foobar".
  it('hashes node names with FNV-1a as the controller does', () => {
    expect(argoNodeId('wf', 'a')).toBe(`wf-${0xe40c292c}`);
    expect(argoPodName('wf', 'foobar', 'main')).toBe(`wf-main-${0xbf9cf968}`);
  });

  it('names the root node and pod after the Workflow, and leaves templated names out', () => {
    expect(argoNodeId('wf', 'wf')).toBe('wf');
    expect(argoPodName('wf', 'wf', 'main')).toBe('wf');
    expect(argoPodName('wf', 'foobar', '{{inputs.parameters.t}}')).toBe(`wf-${0xbf9cf968}`);
  });
});

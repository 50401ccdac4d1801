import { describe, expect, it } from 'vitest';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './label-selector.ts';

describe('label selectors', () => {
  const labels = { app: 'archipel', tier: 'step', 'archipel.io/run-id': 'r1' };

  it.each([
    ['', true],
    ['app=archipel', true],
    ['app==archipel,tier=step', true],
    ['app=archipel,tier=control', false],
    ['tier!=control', true],
    ['missing!=x', true],
    ['archipel.io/run-id', true],
    ['!archipel.io/run-id', false],
    ['tier in (step, control)', true],
    ['tier notin (step)', false],
    ['missing notin (step)', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('rejects what the API server cannot parse', () => {
    expect(() => parseLabelSelector('app=')).not.toThrow();
    expect(() => parseLabelSelector('a b')).toThrow(SelectorError);
  });

  it('allows only metadata.name and metadata.namespace as fields', () => {
    expect(parseFieldSelector('metadata.name=wf-1')({ name: 'wf-1', namespace: 'ns' })).toBe(true);
    expect(parseFieldSelector('metadata.namespace!=ns')({ name: 'wf-1', namespace: 'ns' })).toBe(false);
    expect(() => parseFieldSelector('status.phase=Running')).toThrow(/not a known field selector/);
  });
});

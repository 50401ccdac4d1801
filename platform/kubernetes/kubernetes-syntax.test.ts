import { describe, expect, it } from 'vitest';
import { isQualifiedName, labelSelectorProblem } from './kubernetes-syntax.ts';

describe('Kubernetes syntax', () => {
  it('accepts the label selectors the API server takes', () => {
    for (const selector of [
      'archipel.io/compute=true',
      'tier==gpu',
      'zone!=eu-west-1a',
      '!node-role.kubernetes.io/control-plane',
      'node.kubernetes.io/instance-type',
      'zone in (a, b),tier notin (batch),!spot',
      'label=',
    ]) {
      expect(labelSelectorProblem(selector), selector).toBeUndefined();
    }
  });

  it('says which requirement is wrong', () => {
    expect(labelSelectorProblem('')).toBe('must not be empty');
    expect(labelSelectorProblem('tier=gpu,zone=a b')).toMatch(/^"zone=a b" is not a label selector requirement/);
    expect(labelSelectorProblem('tier in (a')).toMatch(/^"tier in \(a" is not/);
    expect(labelSelectorProblem('-bad=x')).toMatch(/^"-bad=x" is not/);
    expect(labelSelectorProblem('a=b,,c=d')).toMatch(/^"" is not/);
    expect(labelSelectorProblem('x'.repeat(5000))).toMatch(/at most 4096/);
  });

  it('recognises qualified names such as resource names', () => {
    expect(['cpu', 'nvidia.com/gpu', 'amd.com/gpu', 'example.com/tpu-v4'].every(isQualifiedName)).toBe(true);
    expect(['', 'a b', 'Nvidia.com/gpu', '/gpu', 'nvidia.com/', '-gpu'].some(isQualifiedName)).toBe(false);
  });
});

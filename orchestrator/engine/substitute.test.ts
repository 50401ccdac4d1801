import { describe, expect, it } from 'vitest';
import { mapPaths } from './run-pod.ts';
import { itemLabel, itemScope, substitute, substituteDeep, unresolvedTags } from './substitute.ts';

describe('parameter substitution', () => {
  it('replaces known tags and leaves the others for a narrower scope', () => {
    const scope = { 'inputs.parameters.x': 'X', item: 'I' };
    expect(substitute('{{inputs.parameters.x}}-{{ item }}-{{tasks.a.outputs.result}}', scope)).toBe('X-I-{{tasks.a.outputs.result}}');
    expect(substituteDeep({ args: ['{{item}}'], n: 1 }, scope)).toEqual({ args: ['I'], n: 1 });
    expect(unresolvedTags({ a: ['{{tasks.b.id}}', '{{other}}'] }, ['tasks.'])).toEqual(['{{tasks.b.id}}']);
  });

  it('gives items their Argo forms', () => {
    expect(itemScope({ a: 'x', b: [1] })).toEqual({ item: '{"a":"x","b":[1]}', 'item.a': 'x', 'item.b': '[1]' });
    expect(itemScope(3)).toEqual({ item: '3' });
    expect(itemLabel({ b: 2, a: 'x' })).toBe('a:x,b:2');
  });
});

describe('mount path mapping', () => {
  const mounts = [
    { mountPath: '/work', hostPath: '/host/pod/work' },
    { mountPath: '/work/in', hostPath: '/host/run/in' },
  ];
  it('maps mount paths where they stand as paths, nested mounts first', () => {
    expect(mapPaths('/work', mounts)).toBe('/host/pod/work');
    expect(mapPaths('cat /work/a > /work/in/b', mounts)).toBe('cat /host/pod/work/a > /host/run/in/b');
    expect(mapPaths('--out=/work/x "/work"', mounts)).toBe('--out=/host/pod/work/x "/host/pod/work"');
    expect(mapPaths('/workspace a/work /work.d', mounts)).toBe('/workspace a/work /work.d');
  });
});

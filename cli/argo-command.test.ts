import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/index.ts';
import { parsePlacements } from './argo-command.ts';

const STEPS = ['say', 'shout', 'sub/inner'];
const isClusterId = (id: string) => id.startsWith('12D3KooW');

describe('archipel argo export --place', () => {
  it('gives the placement of tool steps on well-formed cluster ids', () => {
    expect(parsePlacements(['shout=12D3KooWB', 'sub/inner=12D3KooWC'], STEPS, isClusterId)).toEqual({ shout: '12D3KooWB', 'sub/inner': '12D3KooWC' });
    expect(parsePlacements([], STEPS, isClusterId)).toEqual({});
  });

  it('names a step the workflow does not have, with the steps it has', () => {
    expect(() => parsePlacements(['nosuch=12D3KooWB'], STEPS, isClusterId)).toThrow(
      '--place nosuch=12D3KooWB: no command-line tool step "nosuch" in this workflow (its command-line tool steps: say, shout, sub/inner)',
    );
  });

  it('refuses a cluster that is no cluster id, and reports every problem at once', () => {
    expect(() => parsePlacements(['shout=nosuchcluster'], STEPS, isClusterId)).toThrow('--place shout=nosuchcluster: "nosuchcluster" is not a cluster id');
    let error: unknown;
    try {
      parsePlacements(['nosuch=x', 'shout', 'say=12D3KooWB'], STEPS, isClusterId);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe('3 problems with --place (its command-line tool steps: say, shout, sub/inner)');
    expect((error as InvalidInputError).issues.map((i) => i.path)).toEqual(['--place nosuch=x', '--place nosuch=x', '--place shout']);
  });
});

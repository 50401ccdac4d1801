import { describe, expect, it } from 'vitest';
import { createTextLogger } from './text-logger.ts';

describe('text logger', () => {
  it('writes readable lines at or above its level, with fields and child bindings', () => {
    const lines: string[] = [];
    const logger = createTextLogger({ level: 'info', write: (line) => lines.push(line) });
    logger.debug('hidden');
    logger.info('running', { command: 'echo hi', cores: 2 });
    logger.child({ step: 'align' }).error('failed', { err: new Error('exit 3') });
    expect(lines).toEqual(['INFO  running command=echo hi cores=2\n', 'ERROR failed step=align err=exit 3\n']);
  });
});

import { describe, expect, it } from 'vitest';
import { InternalError, NotFoundError, type RunState } from '../../core/index.ts';
import { LOG_EVENT_LIMIT, createLogFollower } from './log-events.ts';
import type { StepState } from './step-states.ts';

const step = (pods: string[], phase: StepState['phase'] = 'Running'): StepState => ({
  step: 'count',
  phase,
  cluster: 'here',
  items: { total: pods.length, succeeded: 0, failed: 0, running: pods.length, reused: 0 },
  pods,
});
const stateOf = (phases: Record<string, string>) => ({ name: 'r', phase: 'Running', nodes: Object.fromEntries(Object.entries(phases).map(([id, phase]) => [id, { id, phase }])) }) as unknown as RunState;
const run = { id: 'run1', attempt: 1, engineName: 'r' };

describe('log lines of running steps as run events', () => {
  it('sends complete lines while a pod runs and the rest once it ended, each line once', async () => {
    const logs: Record<string, string> = { p0: 'one\ntw' };
    const follower = createLogFollower({ engine: { logs: async (_run, pod) => logs[pod] ?? '' }, recordedEnds: async () => new Map() });
    const first = await follower.next(run, [step(['p0'])], stateOf({ p0: 'Running' }));
    expect(first).toEqual([{ step: 'count', attempt: 1, pod: 'p0', text: 'one\n', end: 4 }]);
    // Not recorded yet: the same lines come again.
    expect(await follower.next(run, [step(['p0'])], stateOf({ p0: 'Running' }))).toEqual(first);
    follower.recorded('run1', first);
    logs.p0 = 'one\ntwo';
    expect(await follower.next(run, [step(['p0'])], stateOf({ p0: 'Running' }))).toEqual([]);
    const last = await follower.next(run, [step(['p0'], 'Succeeded')], stateOf({ p0: 'Succeeded' }));
    expect(last).toEqual([{ step: 'count', attempt: 1, pod: 'p0', text: 'two', end: 7 }]);
    follower.recorded('run1', last);
    expect(await follower.next(run, [step(['p0'], 'Succeeded')], stateOf({ p0: 'Succeeded' }))).toEqual([]);
  });

  it('reads no pod that has not started, goes on past a log it cannot read, and stops at the limit per pod', async () => {
    const read: string[] = [];
    const failures: string[] = [];
    const follower = createLogFollower({
      engine: {
        logs: async (_run, pod) => {
          read.push(pod);
          if (pod === 'broken') throw new InternalError('the log store is down');
          if (pod === 'gone') throw new NotFoundError('no such pod');
          return `${'y'.repeat(LOG_EVENT_LIMIT)}\nmore\n`;
        },
      },
      recordedEnds: async () => new Map(),
      onError: (_error, where) => failures.push(where.pod),
    });
    const events = await follower.next(run, [step(['waiting', 'broken', 'gone', 'chatty'])], stateOf({ waiting: 'Pending', broken: 'Running', gone: 'Running', chatty: 'Running' }));
    expect(read).toEqual(['broken', 'gone', 'chatty']);
    expect(failures).toEqual(['broken']);
    expect(events).toEqual([{ step: 'count', attempt: 1, pod: 'chatty', item: 3, text: 'y'.repeat(LOG_EVENT_LIMIT), end: LOG_EVENT_LIMIT, truncated: true }]);
    follower.recorded('run1', events);
    read.length = 0;
    await follower.next(run, [step(['waiting', 'broken', 'gone', 'chatty'])], stateOf({ waiting: 'Pending', broken: 'Running', gone: 'Running', chatty: 'Running' }));
    // The truncated pod is not read again.
    expect(read).toEqual(['broken', 'gone']);
  });

  it('goes on after a restart from where the recorded events end', async () => {
    const follower = createLogFollower({ engine: { logs: async () => 'a\nb\nc\n' }, recordedEnds: async () => new Map([['1/count/p0', 2]]) });
    expect(await follower.next(run, [step(['p0'])], stateOf({ p0: 'Running' }))).toEqual([{ step: 'count', attempt: 1, pod: 'p0', text: 'b\nc\n', end: 6 }]);
  });
});

import { NotFoundError, type RunState, type WorkflowEngine } from '../../core/index.ts';
import type { StepState } from './step-states.ts';

/** How much of one pod's log becomes events; the rest stays readable through the step's logs. */
export const LOG_EVENT_LIMIT = 256 * 1024;

const FINAL_NODE = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);

/**
 * A `log` event: new lines of one pod's log. `end` is the offset in the pod's log after `text` (what a
 * restarted node resumes from); `item` is the pod's position among the step's pods when it has several;
 * `truncated` marks the last event of a pod whose log passed LOG_EVENT_LIMIT.
 */
export interface LogEventData extends Record<string, unknown> {
  step: string;
  attempt: number;
  pod: string;
  item?: number;
  text: string;
  end: number;
  truncated?: true;
}

export interface LogFollower {
  /** The log events of the given steps since the last recorded ones: complete lines while a pod runs, the rest once it ended. */
  next(run: { id: string; attempt: number; engineName: string }, steps: StepState[], state: RunState, signal?: AbortSignal): Promise<LogEventData[]>;
  /** Marks events as recorded: the next look starts after them. */
  recorded(runId: string, events: LogEventData[]): void;
  /** Forgets a run that ended. */
  forget(runId: string): void;
}

const keyOf = (attempt: number, step: string, pod: string) => `${attempt}/${step}/${pod}`;

/**
 * Follows the logs of a run's steps through the workflow-engine port, for the run's event stream. Where
 * each pod's log was read up to is kept only once its events are recorded, and re-read from the recorded
 * events (`recordedEnds`) when the node restarts, so no line is sent twice or lost.
 */
export function createLogFollower(options: {
  engine: Pick<WorkflowEngine, 'logs'>;
  recordedEnds(runId: string): Promise<Map<string, number>>;
  /** A pod's log that cannot be read now: it is tried again at the next look, and the run goes on meanwhile. */
  onError?(error: unknown, where: { runId: string; pod: string }): void;
}): LogFollower {
  const runs = new Map<string, { ends: Map<string, number>; done: Set<string> }>();

  async function offsetsOf(runId: string) {
    let entry = runs.get(runId);
    if (!entry) {
      const ends = await options.recordedEnds(runId);
      entry = { ends, done: new Set([...ends].filter(([, end]) => end >= LOG_EVENT_LIMIT).map(([key]) => key)) };
      runs.set(runId, entry);
    }
    return entry;
  }

  return {
    async next(run, steps, state, signal) {
      const { ends, done } = await offsetsOf(run.id);
      const events: LogEventData[] = [];
      for (const step of steps) {
        for (const [index, pod] of step.pods.entries()) {
          const key = keyOf(run.attempt, step.step, pod);
          if (done.has(key)) continue;
          const phase = state.nodes[pod]?.phase;
          // A pod that has not started has nothing to say yet.
          if (phase === undefined || phase === 'Pending') continue;
          const ended = FINAL_NODE.has(phase);
          let text: string;
          try {
            text = await options.engine.logs(run.engineName, pod, { container: 'main', ...(signal ? { signal } : {}) });
          } catch (error) {
            if (!(error instanceof NotFoundError)) {
              options.onError?.(error, { runId: run.id, pod });
              continue;
            }
            text = '';
          }
          const from = ends.get(key) ?? 0;
          let to = ended ? text.length : text.lastIndexOf('\n', text.length - 1) + 1;
          if (to <= from) {
            // Everything the ended pod wrote has been recorded: it is not read again.
            if (ended && from >= text.length) done.add(key);
            continue;
          }
          const truncated = to > LOG_EVENT_LIMIT;
          if (truncated) to = LOG_EVENT_LIMIT;
          events.push({
            step: step.step,
            attempt: run.attempt,
            pod,
            ...(step.pods.length > 1 ? { item: index } : {}),
            text: text.slice(from, to),
            end: to,
            ...(truncated ? { truncated: true as const } : {}),
          });
        }
      }
      return events;
    },

    recorded(runId, events) {
      const entry = runs.get(runId);
      if (!entry) return;
      for (const e of events) {
        const key = keyOf(e.attempt, e.step, e.pod);
        entry.ends.set(key, Math.max(entry.ends.get(key) ?? 0, e.end));
        if (e.truncated) entry.done.add(key);
      }
    },

    forget(runId) {
      runs.delete(runId);
    },
  };
}

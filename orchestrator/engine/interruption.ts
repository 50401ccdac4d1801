/**
 * Why a run or a node was cut short. It is the `reason` of the AbortSignal the engine aborts (a stop, a
 * deadline, the node shutting down), so that whatever notices the abort records the same message.
 */
export class Interruption extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Interruption';
  }
}

export const messages = {
  stopped: "Stopped with strategy 'Stop'",
  workflowDeadline: 'Max duration limit exceeded',
  podDeadline: 'Pod was active on the node longer than the specified deadline',
  dagDeadline: 'Step exceeded its deadline',
  nodeStopped: 'the node stopped while this run was running',
  nodeStopping: 'the node is stopping: the run resumes at its next start',
} as const;

/** The message of an aborted signal's reason. */
export function interruptionMessage(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted');
}

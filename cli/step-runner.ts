import { createWriteStream } from 'node:fs';
import type { ObjectStore } from '../core/index.ts';
import type { ContainerRunner } from '../orchestrator/index.ts';
import { runStepInProcess } from './step-command.ts';

export interface StepRunnerOptions {
  /** Run Archipel's own step containers as processes too, as a cluster would (slower). */
  isolate?: boolean;
  /** Opens the store a step names by URL (the node passes its own store for its own URL). */
  openStore?: (url: string) => Promise<ObjectStore>;
}

/**
 * The local engine's container runner for this machine: Archipel's own step containers (`archipel step
 * ...`) run inside this process unless `isolate` is set (their start would cost more than their work);
 * every other container, the tools, goes to `processes`.
 */
export function createStepRunner(processes: ContainerRunner, options: StepRunnerOptions = {}): ContainerRunner {
  if (options.isolate) return processes;
  return async (request) => {
    if (request.command[0] !== 'archipel' || request.command[1] !== 'step') return processes(request);
    const log = createWriteStream(request.logFile, { flags: 'a' });
    let stdout = '';
    const exitCode = await runStepInProcess(
      [...request.command.slice(2), ...request.args],
      {
        stdout: (text) => {
          stdout += text;
          log.write(text);
        },
        stderr: (text) => log.write(text),
      },
      options.openStore,
    );
    await new Promise((resolve) => log.end(resolve));
    return { exitCode, stdout };
  };
}

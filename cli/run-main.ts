import { createProgram, runProgram } from './program.ts';
import { registerRunCommand } from './run-command.ts';
import { registerStepCommand } from './step-command.ts';

/**
 * `archipel run` and `archipel step` alone: the entry of the prebuilt fast path (see bin/archipel.js), which starts without
 * loading the node's adapters or compiling TypeScript at run time.
 */
export function main(argv: string[]): Promise<number> {
  const program = createProgram();
  registerRunCommand(program);
  registerStepCommand(program);
  return runProgram(program, argv);
}

import { Command, CommanderError } from 'commander';
import { InvalidInputError, isArchipelError } from '../core/index.ts';
import { formatFailure } from './format-failure.ts';
import { packageVersion } from './version.ts';

/** The `archipel` program with its global settings; commands are added by the caller. */
export function createProgram(): Command {
  return new Command('archipel')
    .description('Federated multi-cluster orchestration: CWL workflows across a private federation of clusters')
    .version(packageVersion())
    .exitOverride()
    .enablePositionalOptions()
    .showHelpAfterError('(run "archipel --help" for usage)');
}

/** Prints a failure the way a user can act on it; returns the exit code. */
function reportFailure(error: unknown): number {
  // Help and --version end with exit code 0; usage errors carry their own.
  if (error instanceof CommanderError) return error.exitCode;
  process.stderr.write(formatFailure(error));
  if (!isArchipelError(error) && process.env.ARCHIPEL_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  // Bad configuration or command line: 2; anything else that stops a command: 1.
  return error instanceof InvalidInputError ? 2 : 1;
}

/** Parses and runs a command line; resolves with the exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    process.exitCode = 0;
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    return reportFailure(error);
  }
}

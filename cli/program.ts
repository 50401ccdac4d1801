import { Command, CommanderError } from 'commander';
import { InvalidInputError, isArchipelError } from '../core/index.ts';
import { formatFailure } from './format-failure.ts';
import { packageVersion } from './version.ts';

/** The `archipel` program with its global settings; commands are added by the caller. */
export function createProgram(): Command {
  return (
    new Command('archipel')
      .description('Federated multi-cluster orchestration: CWL workflows across a private federation of clusters')
      .version(packageVersion())
      .exitOverride()
      .enablePositionalOptions()
      // Usage errors read like every other failure: `archipel: unknown option '--place'`. Inherited by
      // the commands added later, as exitOverride is.
      .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'archipel: ')) })
  );
}

/**
 * Ends each command's usage errors with the help to read, its own (`archipel run --help`), rather
 * than the program's. Applied when the commands are all there, just before parsing.
 */
function pointToHelp(command: Command, name: string): void {
  command.showHelpAfterError(`(run "${name} --help" for usage)`);
  for (const sub of command.commands) pointToHelp(sub, `${name} ${sub.name()}`);
}

/** Prints a failure the way a user can act on it; returns the exit code. */
function reportFailure(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version end with exit code 0, help shown for a missing command with commander's 1;
    // any other is a usage error (unknown option, missing argument, ...), a bad command line: 2.
    return error.exitCode === 0 || error.code === 'commander.help' ? error.exitCode : 2;
  }
  process.stderr.write(formatFailure(error));
  if (!isArchipelError(error) && process.env.ARCHIPEL_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  // Bad configuration or command line: 2; anything else that stops a command: 1.
  return error instanceof InvalidInputError ? 2 : 1;
}

/** Parses and runs a command line; resolves with the exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    process.exitCode = 0;
    pointToHelp(program, program.name());
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    return reportFailure(error);
  }
}

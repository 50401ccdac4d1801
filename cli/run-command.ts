import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError, isArchipelError, type Logger } from '../core/index.ts';
import { createTextLogger } from '../platform/logging/index.ts';
import { sweepAbandonedWorkDirs } from '../platform/processes/index.ts';
import { formatFailure } from './format-failure.ts';
import {
  formatOutputJson,
  loadCwlProcess,
  parseInputOptions,
  readJobFile,
  runProcess,
  type StructureCheckCache,
  UnsupportedRequirementError,
  withJobRequirements,
} from '../orchestrator/index.ts';

/**
 * The structure-check cache in a directory (one empty file per document that passed), best effort:
 * a cache that cannot be read or written only costs time.
 */
function createStructureCache(dir: string | undefined): StructureCheckCache | undefined {
  if (!dir) return undefined;
  const folder = path.join(dir, 'cwl-checked');
  return {
    has: (key) => existsSync(path.join(folder, key)),
    add: (key) => {
      try {
        mkdirSync(folder, { recursive: true });
        writeFileSync(path.join(folder, key), '');
      } catch {
        // Read-only or full disk: nothing to remember.
      }
    },
  };
}

/** `$ARCHIPEL_CACHE_DIR`, else `$XDG_CACHE_HOME/archipel`, else `~/.cache/archipel`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ARCHIPEL_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'archipel');
}

export interface RunCommandOptions {
  /** Where to remember documents that passed the structure check; none disables it. */
  cacheDir?: string;
  outdir?: string;
  /** Seconds one JavaScript expression may run (cwltool's --eval-timeout). */
  evalTimeout?: string;
  tmpdirPrefix?: string;
  keepTemp?: boolean;
  /** Workflows: run Archipel's step containers as processes, as a cluster would. */
  isolateSteps?: boolean;
  /** The runner's own long options (`--outdir`, ...), to tell one given after the document from a tool input. */
  runnerOptions?: string[];
}

function parseSeconds(text: string, option: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidInputError(`${option}: expected a positive number of seconds, got "${text}"`);
  return seconds;
}

/**
 * After the document, `--name` gives a tool input, as cwltool reads it; a runner option there that is no
 * input of the tool was meant for the runner: say where it goes rather than that the tool lacks it.
 */
function refuseMisplacedRunnerOptions(args: string[], inputs: { id: string }[], runnerOptions: string[]): void {
  for (const arg of args) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name === undefined || !runnerOptions.includes(`--${name}`) || inputs.some((input) => input.id === name)) continue;
    throw new InvalidInputError(`--${name} is an option of archipel run, not an input of the tool: give it before the document (archipel run --${name} ... <document> [job])`, [
      { path: `--${name}`, message: 'an option of archipel run, given after the document' },
    ]);
  }
}

/** Exit codes of `archipel run`, as the CWL reference runner's. */
export const EXIT = { success: 0, failure: 1, unsupported: 33 } as const;

/**
 * `archipel run tool.cwl [job.yml] [--input value ...]`: runs a CWL process locally and prints its
 * output object as JSON on stdout; logs go to stderr.
 */
export async function runCommand(tool: string, rest: string[], options: RunCommandOptions, logger: Logger): Promise<number> {
  const cwd = process.cwd();
  // What an earlier run killed with SIGKILL left in the same place (its processes ended with it).
  const prefix = options.tmpdirPrefix ? path.resolve(cwd, options.tmpdirPrefix) : path.join(tmpdir(), 'archipel-');
  for (const dir of sweepAbandonedWorkDirs(prefix)) logger.debug('removed the working directory of a run that was killed', { dir });
  try {
    let proc = await loadCwlProcess(tool, cwd, { structureCache: createStructureCache(options.cacheDir) });
    let job: Record<string, unknown> = {};
    let jobDir = cwd;
    let optionArgs = rest;
    if (rest[0] !== undefined && !rest[0].startsWith('--')) {
      const jobFile = path.resolve(cwd, rest[0]);
      const read = readJobFile(jobFile);
      job = read.job;
      proc = withJobRequirements(proc, read.requirements);
      jobDir = path.dirname(jobFile);
      optionArgs = rest.slice(1);
    }
    refuseMisplacedRunnerOptions(optionArgs, proc.inputs, options.runnerOptions ?? []);
    Object.assign(job, parseInputOptions(proc, optionArgs, cwd));
    const runOptions = {
      outdir: path.resolve(cwd, options.outdir ?? '.'),
      jobDir,
      logger,
      ...(options.tmpdirPrefix ? { tmpdirPrefix: path.resolve(cwd, options.tmpdirPrefix) } : {}),
      ...(options.keepTemp ? { keepTemp: true } : {}),
      ...(options.evalTimeout !== undefined ? { expressionTimeoutMs: parseSeconds(options.evalTimeout, '--eval-timeout') * 1000 } : {}),
    };
    // Loaded only for workflows: the engine and its database are not needed to run a tool.
    const outputs = proc.class === 'Workflow' ? await (await import('./run-workflow-locally.ts')).runWorkflowLocally(proc, job, { ...runOptions, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), ...(options.isolateSteps ? { isolateSteps: true } : {}) }) : await runProcess(proc, job, runOptions);
    process.stdout.write(`${formatOutputJson(outputs)}\n`);
    return EXIT.success;
  } catch (error) {
    if (!isArchipelError(error)) throw error;
    process.stderr.write(formatFailure(error));
    return error instanceof UnsupportedRequirementError ? EXIT.unsupported : EXIT.failure;
  }
}

/** Adds `archipel run` to a program (the full CLI, and the fast-starting one in `run-main.ts`). */
export function registerRunCommand(program: Command) {
  program
    .command('run')
    .description('run a CWL tool or workflow locally (a workflow through its Argo translation and the local engine); prints the output object as JSON (exit 0 ok, 1 failure, 33 unsupported requirement)')
    .argument('<tool>', 'the CWL document, optionally with #id of a process in a packed ($graph) document')
    .argument('[job-and-inputs...]', 'a job file (YAML or JSON), then tool inputs as --name value')
    .option('--outdir <dir>', 'where output files go (default: the current directory)')
    .option('--tmpdir-prefix <prefix>', 'prefix of temporary working directories')
    .option('--keep-temp', 'keep the working directories (for debugging)')
    .option('--isolate-steps', 'workflows: run each `archipel step` container as its own process, as on a cluster (slower)')
    .option('--no-cache', 'check the document afresh instead of trusting an earlier check of the same content')
    .option('--eval-timeout <seconds>', 'time limit of one JavaScript expression (default 20)')
    .option('--quiet', 'only log warnings and errors')
    .option('--debug', 'log every step')
    // Options before the document are the runner's, and one it does not know is refused as such; from the
    // document on, everything is passed on as the job file and the tool's inputs (--name value).
    .passThroughOptions()
    .action(async function (this: Command, tool: string, rest: string[], options: RunCommandOptions & { quiet?: boolean; debug?: boolean; cache?: boolean }) {
      const logger = createTextLogger({ level: options.debug ? 'debug' : options.quiet ? 'warn' : 'info' });
      const runnerOptions = this.options.map((option) => option.long).filter((flag): flag is string => flag !== undefined);
      process.exitCode = await runCommand(tool, rest, { ...options, runnerOptions, cacheDir: options.cache === false ? undefined : defaultCacheDir() }, logger);
    });
}

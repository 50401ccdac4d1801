import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createExpressionEvaluator } from '../expressions/index.ts';
import type { CommandLineTool } from '../model.ts';
import { shellQuote } from './command-line.ts';
import { checkOutputs, collectOutputs } from './collect-outputs.ts';
import type { EvalContext } from './evaluation.ts';
import { prepareInputs } from './prepare-inputs.ts';
import {
  checkExitCode,
  checkRequirements,
  expressionOptions,
  inputPaths,
  planCommand,
  resources,
  TIMED_OUT,
  type CommandPlan,
} from './run-process.ts';
import { stageInputs } from './stage-inputs.ts';
import { stageInitialWorkDir } from './stage-workdir.ts';

/**
 * A command-line tool split across processes, as a pod's containers run it: `stageTool` prepares the
 * working directory and the command (and returns this record, which the caller keeps as JSON beside
 * the working directory), a run script runs the command in the tool's image, and `collectTool` reads
 * what it left. Paths are the same in every container of the pod (they share the work volume).
 */
export interface StagedTool {
  workdir: string;
  dirs: { outdir: string; tmpdir: string; literals: string; staging: string };
  inputs: Record<string, unknown>;
  runtime: Record<string, unknown>;
  /** Paths outputs may point into (the working directories, the inputs, what InitialWorkDir staged). */
  allowedRoots: string[];
  command: CommandPlan;
}

export interface StageToolOptions {
  /** An empty directory for this run of the tool. */
  workdir: string;
  /** Relative locations in the job resolve against it. */
  jobDir: string;
  /** PATH of the tool's environment. */
  path: string;
  expressionTimeoutMs?: number;
}

export async function stageTool(tool: CommandLineTool, job: Record<string, unknown>, options: StageToolOptions): Promise<StagedTool> {
  checkRequirements(tool);
  const { workdir } = options;
  const dirs = { outdir: path.join(workdir, 'out'), tmpdir: path.join(workdir, 'tmp'), literals: path.join(workdir, 'literals'), staging: path.join(workdir, 'inputs') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const evaluator = await createExpressionEvaluator(expressionOptions(tool, options.expressionTimeoutMs));
  try {
    const inputs = prepareInputs(tool, job, evaluator, { jobDir: options.jobDir, literalDir: dirs.literals });
    stageInputs(inputs, dirs.staging);
    const context: EvalContext = { inputs, self: null, runtime: { outdir: dirs.outdir, tmpdir: dirs.tmpdir } };
    Object.assign(context.runtime, resources(tool, evaluator, context));
    const staged = stageInitialWorkDir(tool, evaluator, context, dirs.outdir, dirs.literals);
    const command = planCommand(tool, evaluator, context, dirs, undefined, options.path);
    return { workdir, dirs, inputs: context.inputs, runtime: context.runtime, allowedRoots: [workdir, ...inputPaths(inputs), ...staged], command };
  } finally {
    evaluator.close();
  }
}

/**
 * A POSIX shell script that runs the staged command and writes its exit code to `exitCodeFile`; the
 * script itself succeeds whenever the command could be started, so that the collecting container runs
 * and judges the exit code by the tool's success and failure codes.
 */
export function runScript(command: CommandPlan, exitCodeFile: string): string {
  const q = shellQuote;
  const env = Object.entries(command.env).map(([k, v]) => `${k}=${q(v)}`);
  const redirections = [
    command.stdin !== undefined ? `<${q(command.stdin)}` : '</dev/null',
    ...(command.stdout !== undefined ? [`>${q(command.stdout)}`] : []),
    ...(command.stderr !== undefined ? [`2>${q(command.stderr)}`] : []),
  ];
  // `timeout` answers 124 when the limit is reached (TIMED_OUT), and kills what ignores SIGTERM.
  const limit = command.timeLimit > 0 ? `timeout -k 5 ${Math.ceil(command.timeLimit)} ` : '';
  return [
    '#!/bin/sh',
    '# Written by `archipel step stage`: runs one CWL tool and records its exit code.',
    `cd ${q(command.cwd)} || exit 1`,
    `${limit}env -i ${env.join(' ')} ${command.argv.map(q).join(' ')} ${redirections.join(' ')}`,
    'code=$?',
    `echo "$code" > ${q(exitCodeFile)}`,
    // 127/126: the command is missing or not executable, which no success code can excuse.
    'if [ "$code" = 127 ] || [ "$code" = 126 ]; then exit "$code"; fi',
    'exit 0',
    '',
  ].join('\n');
}

/** Judges the exit code and collects and checks the outputs of a staged tool that ran. */
export async function collectTool(tool: CommandLineTool, staged: StagedTool, exitCode: number, options: { expressionTimeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  checkExitCode(tool, exitCode, staged.command.timeLimit);
  const evaluator = await createExpressionEvaluator(expressionOptions(tool, options.expressionTimeoutMs));
  try {
    const context: EvalContext = { inputs: staged.inputs, self: null, runtime: { ...staged.runtime, exitCode } };
    const outputs = collectOutputs(tool, evaluator, context, staged.dirs.outdir, staged.allowedRoots);
    checkOutputs(tool, outputs);
    return outputs;
  } finally {
    evaluator.close();
  }
}

export { TIMED_OUT };

import { spawn, spawnSync } from 'node:child_process';
import { claimWorkDir, findExecutable, tiedToThisProcess } from '../../../platform/processes/index.ts';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../../../core/index.ts';
import { createExpressionEvaluator } from '../expressions/index.ts';
import type { CommandLineTool, ExpressionTool, Process } from '../model.ts';
import { buildCommandLine, shellQuote } from './command-line.ts';
import { containerCommand, containerView, planContainer, toHostPath, type ContainerPlan } from './container.ts';
import { checkOutputs, collectOutputs, resolveReported } from './collect-outputs.ts';
import { JobInputError, ProcessFailedError, UnsupportedRequirementError } from './cwl-errors.ts';
import type { EvalContext, Evaluator } from './evaluation.ts';
import { isFsObject } from './file-objects.ts';
import { prepareInputs } from './prepare-inputs.ts';
import { relocateOutputs } from './relocate-outputs.ts';
import { findRequirement, KNOWN_REQUIREMENTS } from './requirements.ts';
import { stageInputs } from './stage-inputs.ts';
import { visitFsObjects } from './types.ts';
import { stageInitialWorkDir } from './stage-workdir.ts';

export interface RunOptions {
  /** Where final outputs are written. */
  outdir: string;
  /** Prefix of the temporary working directories (`/tmp/archipel-` by default). */
  tmpdirPrefix?: string;
  /** Directory relative paths of the job resolve against. */
  jobDir: string;
  logger?: Logger;
  /** Keep working directories (for debugging, or for a caller that reads unrelocated outputs). */
  keepTemp?: boolean;
  /** false: return the outputs where the process left them, without moving them to `outdir`. */
  relocate?: boolean;
  /** How long one JavaScript expression may run (the expression engine's default when unset). */
  expressionTimeoutMs?: number;
}

let containerEngine: string | null | undefined;
/** docker or podman, when one is installed and its engine answers; looked up once. */
function findContainerEngine(): string | null {
  if (containerEngine !== undefined) return containerEngine;
  containerEngine = null;
  for (const engine of ['docker', 'podman']) {
    const probe = spawnSync(engine, ['info', '--format', '{{.ID}}'], { stdio: 'ignore', timeout: 5000 });
    if (probe.status === 0) {
      containerEngine = engine;
      break;
    }
  }
  return containerEngine;
}

export function checkRequirements(process: Process) {
  for (const req of process.requirements) {
    if (!KNOWN_REQUIREMENTS.has(req.class)) throw new UnsupportedRequirementError(`unsupported requirement ${req.class}`);
  }
}

/** Checked once the job is known to be valid: a bad job is reported as such, not as "unsupported". */
export function checkContainerEngine(process: Process) {
  if (process.requirements.some((r) => r.class === 'DockerRequirement') && !findContainerEngine()) {
    throw new UnsupportedRequirementError('DockerRequirement needs a container engine (docker or podman), and none answers here');
  }
}

export function resources(process: Process, evaluator: Evaluator, context: EvalContext) {
  const req: Record<string, unknown> = findRequirement(process, 'ResourceRequirement') ?? {};
  const field = (name: string) => ({ field: `ResourceRequirement.${name}` });
  const pick = (min: string, max: string, fallback: number) => {
    const lo = req[min] === undefined ? undefined : Number(evaluator.evaluate(req[min], context, field(min)));
    const hi = req[max] === undefined ? undefined : Number(evaluator.evaluate(req[max], context, field(max)));
    const value = lo ?? (hi !== undefined ? Math.min(hi, fallback) : fallback);
    return Math.ceil(value);
  };
  return {
    cores: pick('coresMin', 'coresMax', 1),
    ram: pick('ramMin', 'ramMax', 256),
    outdirSize: pick('outdirMin', 'outdirMax', 1024),
    tmpdirSize: pick('tmpdirMin', 'tmpdirMax', 1024),
  };
}

function timeLimitSeconds(process: Process, evaluator: Evaluator, context: EvalContext): number {
  const req = findRequirement(process, 'ToolTimeLimit');
  if (!req || req.timelimit === undefined) return 0;
  const value = Number(evaluator.evaluate(req.timelimit, context, { field: 'ToolTimeLimit.timelimit' }));
  if (!Number.isFinite(value) || value < 0) throw new JobInputError(`ToolTimeLimit: timelimit must be a non-negative number, got ${String(req.timelimit)}`);
  return value;
}

/**
 * The expression engine a process needs: JavaScript and its library when InlineJavascriptRequirement is
 * in force; its errors name the process's file.
 */
export function expressionOptions(process: Pick<Process, 'requirements' | 'hints'> & { sourceFile?: string }, timeoutMs?: number) {
  const req = findRequirement(process, 'InlineJavascriptRequirement');
  const lib = Array.isArray(req?.expressionLib) ? (req.expressionLib as unknown[]).map(String) : [];
  return {
    javascript: req !== undefined,
    expressionLib: lib,
    ...(process.sourceFile !== undefined ? { document: process.sourceFile } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** A tool's command, ready to run: its words, environment, working directory and redirections (host paths). */
export interface CommandPlan {
  /** As the tool sees it (container paths in a container); not wrapped in the container engine's command. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin?: string;
  stdout?: string;
  stderr?: string;
  /** Seconds (ToolTimeLimit); 0: none. */
  timeLimit: number;
}

/** Builds the command of a tool from its evaluated context; creates the folders of its stdout and stderr. */
export function planCommand(
  tool: CommandLineTool,
  evaluator: Evaluator,
  hostContext: EvalContext,
  dirs: { outdir: string; tmpdir: string },
  container: ContainerPlan | undefined,
  basePath: string,
): CommandPlan {
  // In a container the tool sees its own paths: the command line and environment are built from them.
  const context: EvalContext = container
    ? { inputs: containerView(hostContext.inputs, container), self: null, runtime: { ...hostContext.runtime, outdir: container.outdir, tmpdir: container.tmpdir } }
    : hostContext;
  const toolDirs = container ? { outdir: container.outdir, tmpdir: container.tmpdir } : dirs;
  const parts = buildCommandLine(tool, evaluator, context);
  if (parts.length === 0) throw new ProcessFailedError('the tool has no command line (no baseCommand, arguments or bound inputs)');
  const shell = findRequirement(tool, 'ShellCommandRequirement') !== undefined;
  const argv = shell ? ['/bin/sh', '-c', parts.map((p) => (p.quote ? shellQuote(p.value) : p.value)).join(' ')] : parts.map((p) => p.value);

  const env: Record<string, string> = { HOME: toolDirs.outdir, TMPDIR: toolDirs.tmpdir };
  if (!container) env.PATH = basePath;
  const envReq = findRequirement(tool, 'EnvVarRequirement');
  const envDefs = envReq?.envDef;
  const defs = Array.isArray(envDefs)
    ? (envDefs as { envName: string; envValue: unknown }[])
    : envDefs && typeof envDefs === 'object'
      ? Object.entries(envDefs).map(([envName, envValue]) => (typeof envValue === 'object' && envValue !== null ? { envName, ...(envValue as object) } : { envName, envValue }) as { envName: string; envValue: unknown })
      : [];
  for (const def of defs) env[def.envName] = String(evaluator.evaluate(def.envValue, context, { field: `EnvVarRequirement.envDef.${def.envName}` }));

  const stream = (expr: string | undefined, kind: 'stdin' | 'stdout' | 'stderr') => {
    if (expr === undefined) return undefined;
    const name = String(evaluator.evaluate(expr, context, { field: kind }));
    if (kind === 'stdin') return path.resolve(dirs.outdir, container ? toHostPath(container, name) : name);
    if (path.isAbsolute(name) || name.split('/').includes('..')) throw new ProcessFailedError(`${kind} file name "${name}" must be relative`);
    mkdirSync(path.dirname(path.join(dirs.outdir, name)), { recursive: true });
    return path.join(dirs.outdir, name);
  };
  const redirections = { stdin: stream(tool.stdin, 'stdin'), stdout: stream(tool.stdout, 'stdout'), stderr: stream(tool.stderr, 'stderr') };
  return {
    argv,
    env,
    cwd: dirs.outdir,
    ...Object.fromEntries(Object.entries(redirections).filter(([, v]) => v !== undefined)),
    timeLimit: timeLimitSeconds(tool, evaluator, context),
  };
}

/** Whether an exit code is a success, by the tool's success, temporary and permanent fail codes. */
export function checkExitCode(tool: CommandLineTool, exitCode: number, timeLimit = 0) {
  if (timeLimit > 0 && exitCode === TIMED_OUT) throw new ProcessFailedError(`the tool exceeded its time limit of ${timeLimit} s (ToolTimeLimit)`);
  if (tool.temporaryFailCodes.includes(exitCode)) throw new ProcessFailedError(`the tool exited with ${exitCode} (temporary failure)`, 'temporaryFail');
  if (tool.permanentFailCodes.includes(exitCode) || !tool.successCodes.includes(exitCode)) {
    throw new ProcessFailedError(`the tool exited with ${exitCode}`);
  }
}

/** The exit code a run script reports when the tool ran out of time (as coreutils' `timeout`). */
export const TIMED_OUT = 124;

async function execute(plan: CommandPlan, logger: Logger, container: ContainerPlan | undefined) {
  const open = (file: string | undefined, flags: string) => (file === undefined ? undefined : openSync(file, flags));
  const stdin = open(plan.stdin, 'r');
  const stdout = open(plan.stdout, 'w');
  const stderr = open(plan.stderr, 'w');
  const limit = plan.timeLimit;
  const name = `archipel-${randomBytes(6).toString('hex')}`;
  const command = container
    ? containerCommand(container, plan.argv, plan.env, { name, ...(process.getuid ? { uid: process.getuid(), gid: process.getgid!() } : {}) })
    : plan.argv;
  logger.info('running', { command: command.join(' '), cwd: plan.cwd });

  // A missing command is reported as before: the watchdog shell below would only say exit code 127.
  if (!container && findExecutable(command[0]!, plan.env.PATH, plan.cwd) === undefined) {
    for (const fd of [stdin, stdout, stderr]) if (fd !== undefined) closeSync(fd);
    throw new ProcessFailedError(`cannot run ${plan.argv[0]}: ENOENT`, 'permanentFail');
  }
  // Without a container, the tool's process group ends with this process, even one killed with SIGKILL.
  const argv = container ? command : tiedToThisProcess(command);
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: plan.cwd,
        // The container engine's client needs the caller's environment (DOCKER_HOST, ...); the tool gets `env`.
        env: container ? process.env : plan.env,
        // A tool's own output goes to our stderr: stdout carries only the output object.
        stdio: [stdin ?? 'ignore', stdout ?? 2, stderr ?? 2],
        detached: true,
      });
      let timer: NodeJS.Timeout | undefined;
      if (limit > 0) {
        timer = setTimeout(() => {
          if (container) spawnSync(container.engine, ['kill', name], { stdio: 'ignore', timeout: 10_000 });
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
          reject(new ProcessFailedError(`the tool exceeded its time limit of ${limit} s (ToolTimeLimit)`));
        }, limit * 1000);
      }
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new ProcessFailedError(`cannot run ${plan.argv[0]}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, 'permanentFail', { cause: error }));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? (signal ? 128 + 9 : 1));
      });
    });
  } finally {
    for (const fd of [stdin, stdout, stderr]) if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Runs a CommandLineTool or ExpressionTool on a job: prepares and checks inputs, stages the working
 * directory, runs the command, collects, checks and relocates the outputs. Throws
 * `UnsupportedRequirementError`, `JobInputError` or `ProcessFailedError` with a message for the user.
 */
export async function runProcess(process: Process, job: Record<string, unknown>, options: RunOptions): Promise<Record<string, unknown>> {
  const logger = options.logger ?? silentLogger;
  if (process.class === 'Workflow') throw new UnsupportedRequirementError('workflows are not supported by this runner yet');
  checkRequirements(process);
  const prefix = options.tmpdirPrefix ?? path.join(tmpdir(), 'archipel-');
  mkdirSync(path.dirname(prefix), { recursive: true });
  const workdir = mkdtempSync(prefix);
  claimWorkDir(workdir);
  const dirs = { outdir: path.join(workdir, 'out'), tmpdir: path.join(workdir, 'tmp'), literals: path.join(workdir, 'literals'), staging: path.join(workdir, 'inputs') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

  const evaluator = await createExpressionEvaluator(expressionOptions(process, options.expressionTimeoutMs));
  try {
    const inputs = prepareInputs(process, job, evaluator, { jobDir: options.jobDir, literalDir: dirs.literals });
    checkContainerEngine(process);
    stageInputs(inputs, dirs.staging);
    const context: EvalContext = { inputs, self: null, runtime: { outdir: dirs.outdir, tmpdir: dirs.tmpdir } };
    Object.assign(context.runtime, resources(process, evaluator, context));

    let outputs: Record<string, unknown>;
    if (process.class === 'ExpressionTool') {
      outputs = runExpressionTool(process, evaluator, context);
    } else {
      const engine = findRequirement(process, 'DockerRequirement') ? findContainerEngine() : null;
      const staged = stageInitialWorkDir(process, evaluator, context, dirs.outdir, dirs.literals, engine !== null);
      const container = engine ? planContainer(process, engine, context.inputs, dirs) : undefined;
      const plan = planCommand(process, evaluator, context, dirs, container, globalThis.process.env.PATH ?? '/usr/bin:/bin');
      const exitCode = await execute(plan, logger, container);
      checkExitCode(process, exitCode);
      context.runtime.exitCode = exitCode;
      outputs = collectOutputs(process, evaluator, context, dirs.outdir, [workdir, ...inputPaths(inputs), ...staged], container && ((p) => toHostPath(container, p)));
    }
    checkOutputs(process, outputs);
    if (options.relocate === false) return outputs;
    return await relocateOutputs(outputs, [dirs.outdir, dirs.tmpdir, dirs.literals], options.outdir);
  } finally {
    evaluator.close();
    if (!options.keepTemp) rmSync(workdir, { recursive: true, force: true });
  }
}

/** The real paths of every input File and Directory: outputs may link to them. */
export function inputPaths(inputs: Record<string, unknown>): string[] {
  const paths: string[] = [];
  visitFsObjects(inputs, (obj) => {
    if (typeof obj.path === 'string' && existsSync(obj.path)) paths.push(realpathSync(obj.path));
  });
  return paths;
}

function runExpressionTool(tool: ExpressionTool, evaluator: Evaluator, context: EvalContext): Record<string, unknown> {
  const result = evaluator.evaluate(tool.expression, context, { field: 'expression' });
  if (result === null || typeof result !== 'object' || Array.isArray(result) || isFsObject(result)) {
    throw new ProcessFailedError(`the expression must return an object of outputs, got ${JSON.stringify(result)?.slice(0, 200)}`);
  }
  const resolved = resolveReported(result, String(context.runtime.outdir)) as Record<string, unknown>;
  return Object.fromEntries(tool.outputs.map((p) => [p.id, resolved[p.id] ?? null]));
}

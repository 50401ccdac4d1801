import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, NotFoundError } from '../../core/index.ts';
import { ExpressionError } from '../cwl/expressions/index.ts';
import type { CommandLineTool, Process } from '../cwl/model.ts';
import { ProcessFailedError } from '../cwl/runtime/cwl-errors.ts';
import type { FsObject } from '../cwl/runtime/file-objects.ts';
import { relocateOutputs } from '../cwl/runtime/relocate-outputs.ts';
import { runProcess } from '../cwl/runtime/run-process.ts';
import { collectTool, runScript, stageTool, type StagedTool } from '../cwl/runtime/staged-tool.ts';
import { inheritRequirements } from '../workflow/inherit-requirements.ts';
import { CACHE_NOTE, locateStep, readJson, withLocalDocument, withMirror, writeJson, type ControlContext } from './control-steps.ts';
import { rememberOutputs } from './step-cache.ts';
import { createStoreMirror } from './store-files.ts';

/**
 * The steps that run a tool step's item (see docs/argo.md). A command-line tool's pod runs `stage`
 * (materializes the item's job from the store into the work volume, stages it and writes `run.sh`),
 * then the tool's own image runs `run.sh`, then `collect` (collects the outputs, publishes their files
 * to the store and writes the item's `outputs.json`). An ExpressionTool step's items run together in `expression`.
 */
export interface ToolStepOptions {
  /** PATH of the tool's environment (the image's PATH in a pod). */
  path?: string;
  expressionTimeoutMs?: number;
}

const RUN_SCRIPT = 'run.sh';
const EXIT_CODE = 'exit-code';
const STATE = 'staged.json';

/** The process of a step with the requirements it inherits. */
function stepProcess(ctx: ControlContext, stepPath: string): Process {
  const { workflow, step } = locateStep(ctx.root, stepPath);
  return { ...step.run, ...inheritRequirements(workflow, step) } as Process;
}

function commandLineTool(ctx: ControlContext, stepPath: string): CommandLineTool {
  const process = stepProcess(ctx, stepPath);
  if (process.class !== 'CommandLineTool') throw new InvalidInputError(`step ${stepPath} runs a ${process.class}, not a CommandLineTool`);
  return process;
}

const itemKey = (scope: string, stepPath: string, item: string) => `${scope}/${stepPath.split('/').at(-1)}/${item}`;

/** The tool's expression errors name its file and field; in a workflow they name the step too. */
async function inStep<T>(stepPath: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof ExpressionError ? error.within(`step ${stepPath}`) : error;
  }
}

/** `archipel step stage`: prepares an item of a tool step in `work` and writes the script that runs it. */
export function stageStep(ctx: ControlContext, scope: string, stepPath: string, item: string, work: string, options: ToolStepOptions = {}): Promise<string> {
  return inStep(stepPath, () => stage(ctx, scope, stepPath, item, work, options));
}

async function stage(ctx: ControlContext, scope: string, stepPath: string, item: string, work: string, options: ToolStepOptions): Promise<string> {
  const key = itemKey(scope, stepPath, item);
  const mirror = createStoreMirror(ctx.store, path.join(work, 'objects'));
  const tool = commandLineTool(await withLocalDocument(ctx, mirror), stepPath);
  const job = await mirror.materialize(await readJson<Record<string, unknown>>(ctx.store, `${key}/job.json`));
  const staged = await stageTool(tool, job, {
    workdir: path.join(work, 'job'),
    jobDir: path.dirname(tool.sourceFile),
    path: options.path ?? process.env.PATH ?? '/usr/bin:/bin',
    ...(options.expressionTimeoutMs !== undefined ? { expressionTimeoutMs: options.expressionTimeoutMs } : {}),
  });
  writeFileSync(path.join(work, STATE), JSON.stringify(staged));
  const script = path.join(work, RUN_SCRIPT);
  writeFileSync(script, runScript(staged.command, path.join(work, EXIT_CODE)), { mode: 0o755 });
  return script;
}

/** `archipel step collect`: collects an item's outputs after `run.sh`, publishes them, writes `outputs.json`. */
export function collectStep(ctx: ControlContext, scope: string, stepPath: string, item: string, work: string, options: ToolStepOptions = {}): Promise<Record<string, unknown>> {
  return inStep(stepPath, () => collect(ctx, scope, stepPath, item, work, options));
}

async function collect(ctx: ControlContext, scope: string, stepPath: string, item: string, work: string, options: ToolStepOptions): Promise<Record<string, unknown>> {
  const tool = commandLineTool(ctx, stepPath);
  const key = itemKey(scope, stepPath, item);
  const stateFile = path.join(work, STATE);
  if (!existsSync(stateFile)) throw new NotFoundError(`${stateFile} is missing: did \`archipel step stage\` run in this work volume?`);
  const staged = JSON.parse(readFileSync(stateFile, 'utf8')) as StagedTool;
  const exitFile = path.join(work, EXIT_CODE);
  if (!existsSync(exitFile)) throw new ProcessFailedError(`the tool did not run: ${exitFile} is missing`);
  const exitCode = Number(readFileSync(exitFile, 'utf8').trim());
  const outputs = await collectTool(tool, staged, exitCode, options);
  const mirror = createStoreMirror(ctx.store, path.join(work, 'objects'));
  await mirror.pushChanges();
  const final = path.join(work, 'final');
  mkdirSync(final, { recursive: true });
  // An input updated in place and passed on as an output stays the input's object (pushed above).
  const mirrorDir = realpathSync(mirror.dir);
  const mirrored = (obj: FsObject) => typeof obj.path === 'string' && existsSync(obj.path) && realpathSync(obj.path).startsWith(`${mirrorDir}/`);
  const relocated = await relocateOutputs(outputs, [staged.dirs.outdir, staged.dirs.tmpdir, staged.dirs.literals], final, { keep: mirrored });
  const published = await mirror.publish(relocated, `${key}/files`);
  await writeJson(ctx.store, `${key}/outputs.json`, published);
  // Prepare noted where a successful result is to be remembered (result reuse).
  const note = await readJson<{ cache: string; key: string }>(ctx.store, `${key}/${CACHE_NOTE}`).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (note) await rememberOutputs(ctx.store, note.cache, note.key, published, ctx.rootScope);
  return published;
}

/** `archipel step expression`: runs items of an ExpressionTool step, writing each item's `outputs.json`. */
export function expressionStep(stored: ControlContext, scope: string, stepPath: string, items: string[], options: ToolStepOptions = {}): Promise<Record<string, unknown>[]> {
  return inStep(stepPath, () => runExpressions(stored, scope, stepPath, items, options));
}

async function runExpressions(stored: ControlContext, scope: string, stepPath: string, items: string[], options: ToolStepOptions): Promise<Record<string, unknown>[]> {
  if (stepProcess(stored, stepPath).class !== 'ExpressionTool') throw new InvalidInputError(`step ${stepPath} runs a ${stepProcess(stored, stepPath).class}, not an ExpressionTool`);
  return withMirror(stored.store, async (mirror, scratch) => {
    const process = stepProcess(await withLocalDocument(stored, mirror), stepPath);
    const results: Record<string, unknown>[] = [];
    for (const item of items) {
      const key = itemKey(scope, stepPath, item);
      const job = await mirror.materialize(await readJson<Record<string, unknown>>(stored.store, `${key}/job.json`));
      // Not relocated: what the expression passes on is published from where it is (inputs keep their keys).
      const outputs = await runProcess(process, job, {
        outdir: path.join(scratch, 'out', item),
        tmpdirPrefix: path.join(scratch, 'work-'),
        relocate: false,
        keepTemp: true,
        jobDir: path.dirname(process.sourceFile),
        ...(options.expressionTimeoutMs !== undefined ? { expressionTimeoutMs: options.expressionTimeoutMs } : {}),
      });
      const published = await mirror.publish(outputs, `${key}/files`);
      await writeJson(stored.store, `${key}/outputs.json`, published);
      results.push(published);
    }
    return results;
  });
}

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { InvalidInputError, type ObjectStore } from '../core/index.ts';
import { formatFailure } from './format-failure.ts';
import {
  collectStep,
  expressionStep,
  finishScope,
  gatherStep,
  prepareStep,
  readJson,
  stageStep,
  type ControlContext,
  type Workflow,
} from '../orchestrator/index.ts';
import { createDirectoryObjectStore } from '../platform/object-store/index.ts';

/**
 * The object store a step command works in, from its URL: `file:///dir` (the embedded node's directory
 * store) or `s3://bucket/prefix` (endpoint and credentials from the usual S3_* variables).
 */
export async function openStore(url: string, env: NodeJS.ProcessEnv = process.env): Promise<ObjectStore> {
  if (url.startsWith('file://')) return createDirectoryObjectStore({ root: fileURLToPath(url) });
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (s3) {
    // Loaded only for S3: the SDK takes a noticeable part of a step's start otherwise.
    const { createS3ObjectStore } = await import('../platform/object-store/index.ts');
    return createS3ObjectStore({
      bucket: s3[1]!,
      ...(s3[2] ? { prefix: s3[2] } : {}),
      ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT, forcePathStyle: true } : {}),
      region: env.S3_REGION ?? 'us-east-1',
      ...(env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } : {}),
    });
  }
  throw new InvalidInputError(`--store ${url}: expected file:///path or s3://bucket/prefix`);
}

type OpenStore = (url: string) => Promise<ObjectStore>;

async function context(options: { store: string; document: string; root: string }, open: OpenStore): Promise<ControlContext> {
  const store = await open(options.store);
  const root = await readJson<Workflow>(store, options.document);
  if (root.class !== 'Workflow') throw new InvalidInputError(`${options.document} does not hold a CWL workflow`);
  return { store, root, rootScope: options.root };
}

interface ControlOptions {
  store: string;
  document: string;
  root: string;
  scope: string;
  step: string;
  out?: string;
  item?: string;
  items?: string;
  work?: string;
  cache?: string;
  evalTimeout?: string;
}

/** `--eval-timeout` as milliseconds (unset: the expression engine's default). */
function expressionTimeout(options: ControlOptions): { expressionTimeoutMs?: number } {
  if (options.evalTimeout === undefined) return {};
  const seconds = Number(options.evalTimeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidInputError(`--eval-timeout: expected a positive number of seconds, got "${options.evalTimeout}"`);
  return { expressionTimeoutMs: seconds * 1000 };
}

function parseItems(text: string): string[] {
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch {
    items = undefined;
  }
  if (!Array.isArray(items) || !items.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new InvalidInputError(`--items ${text}: expected a JSON list of item numbers, like [0,2]`);
  }
  return items.map(String);
}

/** `archipel step prepare|gather|finish|stage|collect|expression`: the steps a translated Workflow runs (docs/argo.md). */
export function registerStepCommand(program: Command, stdout: (text: string) => void = (text) => process.stdout.write(text), open: OpenStore = (url) => openStore(url)) {
  const step = program.command('step').description('steps of a translated Argo Workflow (run by the workflow engine, not by hand)');
  const common = (command: Command) =>
    command
      .requiredOption('--store <url>', 'the run’s object store: file:///dir or s3://bucket/prefix')
      .requiredOption('--document <key>', 'object-store key of the normalised CWL workflow')
      .requiredOption('--root <scope>', 'the run’s root scope (runs/<id>)')
      .requiredOption('--scope <scope>', 'the scope of the workflow instance this step belongs to')
      .option('--eval-timeout <seconds>', 'time limit of one JavaScript expression (default 20)');

  common(step.command('prepare').description('write a step’s jobs; decide whether and which items run'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .requiredOption('--out <dir>', 'where to write the decision files `run`, `items` and `reused`')
    .option('--cache <prefix>', 'object-store prefix of the result cache (empty: no reuse)')
    .action(async (options: ControlOptions) => {
      const decision = await prepareStep(await context(options, open), options.scope, options.step, { ...(options.cache ? { cache: options.cache } : {}), ...expressionTimeout(options) });
      const out = path.resolve(options.out!);
      mkdirSync(out, { recursive: true });
      writeFileSync(path.join(out, 'run'), String(decision.run));
      writeFileSync(path.join(out, 'items'), JSON.stringify(decision.items));
      writeFileSync(path.join(out, 'reused'), String(decision.reused));
    });
  common(step.command('gather').description('merge the outputs of a step’s items'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .action(async (options: ControlOptions) => {
      await gatherStep(await context(options, open), options.scope, options.step);
    });
  common(step.command('finish').description('write the output object of a workflow instance')).action(async (options: ControlOptions) => {
    const outputs = await finishScope(await context(options, open), options.scope, expressionTimeout(options));
    stdout(`${JSON.stringify(outputs)}\n`);
  });
  common(step.command('stage').description('stage an item of a tool step in the work volume and write its run.sh'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .requiredOption('--item <n>', 'the item (scatter index; 0 without scatter)')
    .requiredOption('--work <dir>', 'the pod’s work volume')
    .action(async (options: ControlOptions) => {
      await stageStep(await context(options, open), options.scope, options.step, options.item!, path.resolve(options.work!), expressionTimeout(options));
    });
  common(step.command('collect').description('collect an item’s outputs after run.sh and publish them to the store'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .requiredOption('--item <n>', 'the item (scatter index; 0 without scatter)')
    .requiredOption('--work <dir>', 'the pod’s work volume')
    .action(async (options: ControlOptions) => {
      await collectStep(await context(options, open), options.scope, options.step, options.item!, path.resolve(options.work!), expressionTimeout(options));
    });
  common(step.command('expression').description('run the items of an ExpressionTool step'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .requiredOption('--items <json>', 'the items to run, as the JSON list `step prepare` wrote')
    .action(async (options: ControlOptions) => {
      await expressionStep(await context(options, open), options.scope, options.step, parseItems(options.items!), expressionTimeout(options));
    });
}

/**
 * Runs `archipel step <args>` inside this process, writing what the command would print to `io`;
 * resolves with the exit code the command would have. The local engine uses it for Archipel's own
 * step containers (their start would cost more than their work); tools still run as processes.
 */
export async function runStepInProcess(args: string[], io: { stdout(text: string): void; stderr(text: string): void }, open?: OpenStore): Promise<number> {
  const program = new Command('archipel').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerStepCommand(program, io.stdout, open);
  for (const command of program.commands.flatMap((c) => [c, ...c.commands])) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    await program.parseAsync(['step', ...args], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    io.stderr(formatFailure(error));
    return error instanceof InvalidInputError ? 2 : 1;
  }
}

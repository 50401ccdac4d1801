import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidInputError, type ObjectStore } from '../core/index.ts';
import { finishScope, gatherStep, prepareStep, readJson, type ControlContext, type Workflow } from '../orchestrator/index.ts';
import { createDirectoryObjectStore, createS3ObjectStore } from '../platform/object-store/index.ts';

/**
 * The object store a step command works in, from its URL: `file:///dir` (the embedded node's directory
 * store) or `s3://bucket/prefix` (endpoint and credentials from the usual S3_* variables).
 */
export function openStore(url: string, env: NodeJS.ProcessEnv = process.env): ObjectStore {
  if (url.startsWith('file://')) return createDirectoryObjectStore({ root: fileURLToPath(url) });
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (s3) {
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

async function context(options: { store: string; document: string; root: string }): Promise<ControlContext> {
  const store = openStore(options.store);
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
}

/** `archipel step prepare|gather|finish`: the control steps a translated Workflow runs (docs/argo.md). */
export function registerStepCommand(program: Command) {
  const step = program.command('step').description('steps of a translated Argo Workflow (run by the workflow engine, not by hand)');
  const common = (command: Command) =>
    command
      .requiredOption('--store <url>', 'the run’s object store: file:///dir or s3://bucket/prefix')
      .requiredOption('--document <key>', 'object-store key of the normalised CWL workflow')
      .requiredOption('--root <scope>', 'the run’s root scope (runs/<id>)')
      .requiredOption('--scope <scope>', 'the scope of the workflow instance this step belongs to');

  common(step.command('prepare').description('write a step’s jobs; decide whether and which items run'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .requiredOption('--out <dir>', 'where to write the decision files `run` and `items`')
    .action(async (options: ControlOptions) => {
      const decision = await prepareStep(await context(options), options.scope, options.step);
      const out = path.resolve(options.out!);
      mkdirSync(out, { recursive: true });
      writeFileSync(path.join(out, 'run'), String(decision.run));
      writeFileSync(path.join(out, 'items'), JSON.stringify(decision.items));
    });
  common(step.command('gather').description('merge the outputs of a step’s items'))
    .requiredOption('--step <path>', 'the step path (outer/inner)')
    .action(async (options: ControlOptions) => {
      await gatherStep(await context(options), options.scope, options.step);
    });
  common(step.command('finish').description('write the output object of a workflow instance')).action(async (options: ControlOptions) => {
    const outputs = await finishScope(await context(options), options.scope);
    process.stdout.write(`${JSON.stringify(outputs)}\n`);
  });
}

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { silentLogger, type Logger, type RunState, type SqlDatabase } from '../core/index.ts';
import {
  checkProcessRequirements,
  createLocalEngine,
  createProcessRunner,
  createStoreMirror,
  prepareWorkflowJob,
  ProcessFailedError,
  readJson,
  relocateOutputs,
  translateWorkflow,
  UnsupportedRequirementError,
  writeJson,
  type LocalEngine,
  type RunOptions,
  type Workflow,
} from '../orchestrator/index.ts';
import { createDirectoryObjectStore } from '../platform/object-store/index.ts';
import { claimWorkDir } from '../platform/processes/index.ts';
import { createEphemeralPgliteDatabase } from '../platform/sql/index.ts';
import { createStepRunner } from './step-runner.ts';
import { archipelBin } from './version.ts';

export interface LocalWorkflowRunOptions extends RunOptions {
  /** Where the engine's database snapshot is kept between runs. */
  cacheDir?: string;
  /** Run Archipel's own step containers as processes too, as a cluster would (slower). */
  isolateSteps?: boolean;
}

/** The exit code with which `archipel step` reports an unsupported requirement (as `archipel run`). */
const UNSUPPORTED_EXIT = '33';

/**
 * `archipel run workflow.cwl`: translates the workflow into an Argo Workflow and runs it on the local
 * engine, with the run's state and files in a directory object store and the engine's records in an
 * in-memory database; the steps are `archipel step` commands and the tools run as local processes.
 * The output files are then moved from the store to `outdir`.
 */
export async function runWorkflowLocally(workflow: Workflow, job: Record<string, unknown>, options: LocalWorkflowRunOptions): Promise<Record<string, unknown>> {
  const logger = options.logger ?? silentLogger;
  checkProcessRequirements(workflow, { containers: false });
  const prefix = options.tmpdirPrefix ?? path.join(tmpdir(), 'archipel-');
  mkdirSync(path.dirname(prefix), { recursive: true });
  const workdir = mkdtempSync(prefix);
  claimWorkDir(workdir);
  const runId = randomUUID();
  const scope = `runs/${runId}`;
  let db: SqlDatabase | undefined;
  let engine: LocalEngine | undefined;
  try {
    const storeDir = path.join(workdir, 'store');
    const store = createDirectoryObjectStore({ root: storeDir });
    const mirror = createStoreMirror(store, path.join(workdir, 'objects'));
    const inputs = await prepareWorkflowJob(workflow, job, { jobDir: options.jobDir, literalDir: path.join(workdir, 'literals'), ...(options.expressionTimeoutMs !== undefined ? { expressionTimeoutMs: options.expressionTimeoutMs } : {}) });
    await writeJson(store, `${scope}/job.json`, await mirror.publish(inputs, `${scope}/inputs`));
    await writeJson(store, `${scope}/process.json`, workflow);

    db = await createEphemeralPgliteDatabase({ snapshotDir: path.join(options.cacheDir ?? path.join(workdir, 'cache'), 'engine-db') });
    engine = createLocalEngine({
      db,
      workRoot: path.join(workdir, 'engine'),
      logger: logger.child({ component: 'engine' }),
      runContainer: createStepRunner(
        createProcessRunner({
          // This checkout's CLI runs the steps; tools find what the caller's PATH has.
          commandMap: { archipel: [process.execPath, archipelBin()] },
          baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
        }),
        { isolate: options.isolateSteps ?? false },
      ),
    });
    const manifest = translateWorkflow(workflow, { runId, ...(options.expressionTimeoutMs !== undefined ? { expressionTimeoutMs: options.expressionTimeoutMs } : {}) });
    const { name } = await engine.submit(manifest, { parameters: { store: pathToFileURL(storeDir).href } });
    const state = await engine.wait(name);
    if (state.phase !== 'Succeeded') await explainFailure(engine, state, logger);

    const outputs = await mirror.materialize(await readJson<Record<string, unknown>>(store, `${scope}/outputs.json`));
    // Outputs naming the same file name the same file in outdir, as with the reference runner.
    return await relocateOutputs(outputs, [mirror.dir], options.outdir, { sameFileOnce: true });
  } finally {
    await engine?.close();
    await db?.close();
    if (!options.keepTemp) rmSync(workdir, { recursive: true, force: true });
    else logger.info('kept the run’s files', { dir: workdir });
  }
}

/** Throws the failure of a run: the failed steps with the end of their logs. */
async function explainFailure(engine: LocalEngine, state: RunState, logger: Logger): Promise<never> {
  const failed = Object.values(state.nodes).filter((n) => n.type === 'Pod' && (n.phase === 'Failed' || n.phase === 'Error'));
  let unsupported = false;
  const reasons: string[] = [];
  for (const node of failed) {
    // The step command's own failure (`archipel: ...`, its last line) says more than its exit code.
    let said: string | undefined;
    for (const container of ['stage', 'main', 'collect']) {
      const log = await engine.logs(state.name, node.id, { container }).catch(() => '');
      if (log.trim()) logger.error(`step ${node.displayName} (${container}) said:\n${log.trimEnd().split('\n').slice(-20).join('\n')}`);
      said = [...log.matchAll(/^archipel: (.+)$/gm)].at(-1)?.[1] ?? said;
    }
    if (node.outputs?.exitCode === UNSUPPORTED_EXIT || /exit code 33\b/.test(node.message ?? '')) unsupported = true;
    // Expression errors of a step already name it by its CWL path (`step outer/inner: ...`).
    const reason = said ?? node.message ?? node.phase;
    reasons.push(reason.startsWith('step ') ? reason : `${node.displayName}: ${reason}`);
  }
  const what = reasons.join('; ') || state.message || state.phase;
  if (unsupported) throw new UnsupportedRequirementError(`the workflow needs a requirement this runner does not support (${what})`);
  throw new ProcessFailedError(`the workflow failed: ${what}`);
}

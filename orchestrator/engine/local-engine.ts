import { randomInt, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  describeError,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type SqlDatabase,
} from '../../core/index.ts';
import { checkManifest } from './check-manifest.ts';
import { sleep } from './deadline.ts';
import { Interruption, messages } from './interruption.ts';
import type { WorkflowManifest } from './manifest.ts';
import { createProcessRunner, reapLeftoverProcesses, type ContainerRunner } from './process-runner.ts';
import { createResourceScheduler, type ResourceCapacity, type ResourceRequest } from './resource-scheduler.ts';
import { createRunStore, createRunWriter } from './run-store.ts';
import type { LogsOptions, NodePhase, NodeState, RunState, RunSummary, SignalOptions, SubmitOptions, WorkflowEngine } from '../../core/index.ts';
import type { PlacedPods } from './placed-pods.ts';
import { WorkflowExecution } from './workflow-execution.ts';

export interface LocalEngineOptions {
  db: SqlDatabase;
  /** Each run keeps its pods' directories (volumes, working directories, logs) under `<workRoot>/<run>/`. */
  workRoot: string;
  /** Cores the engine may fill (default: this machine's). */
  cores?: number;
  /** Memory the engine may fill, in MiB (default: this machine's). */
  memoryMiB?: number;
  logger?: Logger;
  /** How containers run (default: local processes, see createProcessRunner). */
  runContainer?: ContainerRunner;
  /** Timestamps of runs and nodes. Deadlines and backoffs use real timers. */
  clock?: Clock;
  /** What a pod that names no request counts for (default 1 cpu, 256Mi). */
  defaultRequest?: ResourceRequest;
  /** How often `wait` looks at a run that this engine is not executing (default 1 s). */
  pollIntervalMs?: number;
  /** Pods placed on other clusters (`archipel.io/target-cluster`); without it, every pod runs here. */
  placedPods?: PlacedPods;
}

export interface LocalEngine extends WorkflowEngine {
  readonly capacity: ResourceCapacity;
  /**
   * At start: runs recorded as Pending or Running that this engine is not executing were cut short by a
   * stop (or a crash) of the node. Whatever their containers left running is killed, and each run is
   * executed again from its manifest: nodes that succeeded are kept with their outputs, the others run
   * again. A run that cannot be executed again fails with the reason.
   */
  resume(options?: SignalOptions): Promise<void>;
  /**
   * Stops the runs in progress and waits for their records; they stay Running, to be resumed by the next
   * engine's `resume()` on this database.
   */
  close(): Promise<void>;
}

interface ActiveRun {
  summary: RunSummary;
  execution: WorkflowExecution;
  controller: AbortController;
  done: Promise<void>;
}

const FINAL_NODE_PHASES: NodePhase[] = ['Succeeded', 'Skipped', 'Failed', 'Error', 'Omitted'];
const isFinal = (phase: RunSummary['phase']) => phase === 'Succeeded' || phase === 'Failed' || phase === 'Error';
// Kubernetes' generateName alphabet: no vowels (no words), no look-alike characters.
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The embedded adapter of the workflow-engine port: runs Argo Workflow manifests on this machine, each
 * container as a local process, never more at once than the cores and memory allow, and records every
 * run and node transition in SQL.
 */
export function createLocalEngine(options: LocalEngineOptions): LocalEngine {
  const capacity: ResourceCapacity = {
    cores: options.cores ?? availableParallelism(),
    memoryMiB: options.memoryMiB ?? Math.floor(totalmem() / 2 ** 20),
  };
  if (!(capacity.cores > 0) || !(capacity.memoryMiB > 0)) {
    throw new InvalidInputError('the local engine needs a positive number of cores and MiB of memory', [], { details: { ...capacity } });
  }
  const logger = (options.logger ?? silentLogger).child({ component: 'local-engine' });
  const clock = options.clock ?? systemClock;
  const scheduler = createResourceScheduler(capacity);
  const runner = options.runContainer ?? createProcessRunner();
  const store = createRunStore(options.db);
  const active = new Map<string, ActiveRun>();
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  let closed = false;

  const now = () => clock.now().toISOString();
  const assertOpen = () => {
    if (closed) throw new UnavailableError('the local workflow engine is closed');
  };

  function start(manifest: WorkflowManifest, summary: RunSummary, previous?: Record<string, NodeState>): void {
    const name = summary.name;
    const runLogger = logger.child({ run: name });
    const writer = createRunWriter(store, () => summary, runLogger);
    const controller = new AbortController();
    // Every pod of the run that waits for cores or runs listens to its signal: many at once is normal.
    setMaxListeners(0, controller.signal);
    const runDir = join(options.workRoot, name);
    const execution = new WorkflowExecution({
      manifest,
      runDir,
      scheduler,
      runner,
      clock,
      logger: runLogger,
      defaultRequest: options.defaultRequest,
      ...(options.placedPods ? { placedPods: options.placedPods } : {}),
      onNodeChange: (node) => writer.nodeChanged(node),
      ...(previous ? { previous } : {}),
    });
    summary.phase = 'Running';
    summary.startedAt ??= now();
    writer.runChanged();
    const done = (async () => {
      try {
        await mkdir(runDir, { recursive: true });
        const root = await execution.run(controller.signal);
        if (closed && controller.signal.aborted) {
          // Cut short by the engine's close: left Running for the next engine to resume.
          await writer.flush();
          active.delete(name);
          runLogger.info('run left to resume at the next start');
          return;
        }
        summary.phase = root.phase === 'Succeeded' ? 'Succeeded' : root.phase === 'Error' ? 'Error' : 'Failed';
        if (root.message !== undefined) summary.message = root.message;
      } catch (error) {
        runLogger.error('run failed in the engine', { error: describeError(error) });
        summary.phase = 'Error';
        summary.message = describeError(error);
      }
      summary.finishedAt = now();
      writer.runChanged();
      await writer.flush();
      active.delete(name);
      runLogger.info('run finished', { phase: summary.phase, ...(summary.message ? { message: summary.message } : {}) });
    })();
    active.set(name, { summary, execution, controller, done });
  }

  /**
   * A run that has ended but is still writing its last state shows its final phase through `get`:
   * a retry or a delete that follows waits for that write rather than calling it running.
   */
  async function finishing(name: string, signal?: AbortSignal): Promise<void> {
    const run = active.get(name);
    if (run && isFinal(run.summary.phase)) await abortable(run.done, signal);
  }

  async function get(name: string, signal?: AbortSignal): Promise<RunState> {
    const run = active.get(name);
    if (run) return { ...structuredClone(run.summary), nodes: structuredClone(run.execution.nodes) };
    const stored = await store.get(name, signal);
    if (!stored) throw new NotFoundError(`no workflow run named "${name}"`);
    return stored;
  }

  /** Executes a recorded run again (a resume, a retry): nodes that succeeded are taken over, the rest runs. */
  function executeAgain(state: RunState, manifest: WorkflowManifest): void {
    const { nodes, message: _message, finishedAt: _finishedAt, ...summary } = state;
    start(manifest, summary, nodes);
  }

  /** Marks a run this engine is not executing, and its unfinished nodes, as Failed. */
  async function markInterrupted(state: RunState, message: string): Promise<RunState> {
    const at = now();
    const nodes: NodeState[] = [];
    for (const node of Object.values(state.nodes)) {
      if (FINAL_NODE_PHASES.includes(node.phase)) continue;
      Object.assign(node, { phase: 'Failed', message, finishedAt: at });
      nodes.push(node);
    }
    Object.assign(state, { phase: 'Failed', message, finishedAt: at });
    const { nodes: _all, ...summary } = state;
    await store.save(summary, nodes);
    return state;
  }

  return {
    capacity,

    async submit(manifest, submitOptions: SubmitOptions = {}) {
      assertOpen();
      const checked = checkManifest(manifest);
      const metadata = checked.metadata;
      const name = metadata.name ?? `${metadata.generateName}${Array.from({ length: 5 }, () => SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)]).join('')}`;
      if (name.length > 253) throw new InvalidInputError('the workflow name is longer than 253 characters', [{ path: 'metadata.name', message: 'too long' }]);
      metadata.name = name;
      metadata.uid ??= randomUUID();
      const parameters = checked.spec.arguments?.parameters ?? [];
      for (const [key, value] of Object.entries(submitOptions.parameters ?? {})) {
        const existing = parameters.find((p) => p.name === key);
        if (existing) existing.value = value;
        else parameters.push({ name: key, value });
      }
      const missing = parameters.filter((p) => p.value === undefined);
      if (missing.length) {
        throw new InvalidInputError(
          `workflow parameters without a value: ${missing.map((p) => p.name).join(', ')}`,
          missing.map((p) => ({ path: `spec.arguments.parameters.${p.name}.value`, message: 'required' })),
        );
      }
      checked.spec.arguments = { ...checked.spec.arguments, parameters };
      const summary: RunSummary = { name, phase: 'Pending', createdAt: now() };
      await store.insertRun(summary, checked, submitOptions.signal);
      assertOpen();
      logger.info('run submitted', { run: name });
      start(checked, summary);
      return { name };
    },

    get: (name, getOptions = {}) => get(name, getOptions.signal),

    async wait(name, waitOptions = {}) {
      const { signal } = waitOptions;
      for (;;) {
        const run = active.get(name);
        if (run) {
          await abortable(run.done, signal);
          return get(name, signal);
        }
        const state = await get(name, signal);
        if (isFinal(state.phase)) return state;
        // Recorded as running but not by this engine (resume() not called yet): look again later.
        await sleep(pollIntervalMs, signal ?? new AbortController().signal);
      }
    },

    async list(listOptions = {}) {
      const runs = await store.list(listOptions.signal);
      return runs.map((r) => (active.has(r.name) ? structuredClone(active.get(r.name)!.summary) : r));
    },

    async stop(name, stopOptions = {}) {
      const run = active.get(name);
      if (run) {
        run.controller.abort(new Interruption(messages.stopped));
        await abortable(run.done, stopOptions.signal);
        return get(name, stopOptions.signal);
      }
      const state = await get(name, stopOptions.signal);
      return isFinal(state.phase) ? state : markInterrupted(state, messages.stopped);
    },

    async logs(name, id, logsOptions: LogsOptions = {}) {
      const state = await get(name, logsOptions.signal);
      const node = state.nodes[id];
      if (!node || node.type !== 'Pod') throw new NotFoundError(`run "${name}" has no pod node "${id}"`);
      const dir = join(options.workRoot, name, node.id, 'logs');
      let container = logsOptions.container;
      if (container !== undefined && !CONTAINER_NAME.test(container)) throw new NotFoundError(`pod "${id}" has no container "${container}"`);
      if (container === undefined) {
        const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.log')).sort();
        container = files.includes('main.log') ? 'main' : files[0]?.slice(0, -'.log'.length);
        if (container === undefined) return '';
      }
      try {
        return await readFile(join(dir, `${container}.log`), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        if (logsOptions.container !== undefined && FINAL_NODE_PHASES.includes(node.phase)) {
          throw new NotFoundError(`pod "${id}" has no logs for container "${container}"`);
        }
        return '';
      }
    },

    async retry(name, retryOptions = {}) {
      assertOpen();
      await finishing(name, retryOptions.signal);
      if (active.has(name)) throw new ConflictError(`workflow run "${name}" is running`);
      const state = await get(name, retryOptions.signal);
      if (state.phase === 'Succeeded') throw new ConflictError(`workflow run "${name}" succeeded: there is nothing to retry`);
      if (!isFinal(state.phase)) throw new ConflictError(`workflow run "${name}" is ${state.phase}`);
      executeAgain(state, checkManifest(await store.manifest(name, retryOptions.signal)));
      logger.info('run retried', { run: name });
      return get(name, retryOptions.signal);
    },

    async delete(name, deleteOptions = {}) {
      await finishing(name, deleteOptions.signal);
      if (active.has(name)) throw new ConflictError(`workflow run "${name}" is running: stop it first`);
      const state = await get(name, deleteOptions.signal);
      if (!isFinal(state.phase)) throw new ConflictError(`workflow run "${name}" is ${state.phase}: stop it first`);
      await store.delete(name, deleteOptions.signal);
      await rm(join(options.workRoot, name), { recursive: true, force: true });
    },

    async resume(resumeOptions = {}) {
      assertOpen();
      for (const name of await store.unfinished(resumeOptions.signal)) {
        if (active.has(name)) continue;
        const state = await store.get(name, resumeOptions.signal);
        if (!state) continue;
        const killed = await reapLeftoverProcesses(join(options.workRoot, name));
        if (killed.length) logger.warn('killed processes left by the previous run of the node', { run: name, processGroups: killed });
        let manifest: WorkflowManifest;
        try {
          manifest = checkManifest(await store.manifest(name, resumeOptions.signal));
        } catch (error) {
          await markInterrupted(state, `${messages.nodeStopped}, and the run cannot be resumed: ${describeError(error)}`);
          logger.warn('run interrupted by a stop of the node cannot be resumed, marked failed', { run: name, error: describeError(error) });
          continue;
        }
        executeAgain(state, manifest);
        logger.info('run resumed', { run: name, kept: Object.values(state.nodes).filter((n) => n.phase === 'Succeeded').length });
      }
    },

    async close() {
      closed = true;
      const runs = [...active.values()];
      for (const run of runs) run.controller.abort(new Interruption(messages.nodeStopping));
      await Promise.all(runs.map((run) => run.done));
    },
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

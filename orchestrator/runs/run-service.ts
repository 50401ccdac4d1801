import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  describeError,
  silentLogger,
  systemClock,
  validateObjectKey,
  type Clock,
  type Logger,
  type ObjectInfo,
  type ObjectStore,
  type RunPhase,
  type RunState,
  type SqlDatabase,
  type Startable,
  type WorkflowEngine,
} from '../../core/index.ts';
import type { Workflow } from '../cwl/model.ts';
import { planPlacement, stepDemands, type PlacementCluster, type PlacementPlan, type PlacementRequest, type Resources } from '../placement/index.ts';
import { mapFsObjects } from '../cwl/runtime/map-fs-objects.ts';
import { visitFsObjects } from '../cwl/runtime/types.ts';
import { readJson, writeJson } from '../steps/control-steps.ts';
import { createStoreMirror, objectKeyOf } from '../steps/store-files.ts';
import { translateWorkflow } from '../translate/translate-workflow.ts';
import { parseSource } from '../workflow/link-values.ts';
import { checkProcessRequirements, prepareWorkflowJob } from '../workflow/workflow-job.ts';
import type { FileService, RunCaller } from './file-service.ts';
import { uploadedFileId } from './file-service.ts';
import { readRunDocument } from './run-document.ts';
import { createLogFollower } from './log-events.ts';
import { catalogLocation, resolveJobFiles, type CatalogLocation } from './run-inputs.ts';

import { createRunRecords, type OutputTarget, type RunEventRow, type RunGrant, type RunReservation, type RunRow } from './run-store.ts';
import { deriveStepStates, type StepState } from './step-states.ts';
import type { ExecutionContext } from '../federation/remote-pods.ts';

export interface NewRun {
  /** The CWL document: YAML or JSON text, or the parsed object (or else `service`). */
  cwl?: string | Record<string, unknown>;
  /** For a packed document (`$graph`): the id of the process to run (default `main`). */
  process?: string;
  /** A `service` catalog entry the caller may see (this cluster's, or a peered cluster's): its tool runs, in its image. */
  service?: string | ServiceRef;
  job: Record<string, unknown>;
  project: string;
  name?: string;
  labels?: Record<string, string>;
  /** Take remembered results of identical tool steps of earlier runs in the project (default true). */
  reuse?: boolean;
  /** A storage catalog entry (and a prefix under it) the output files are written to when the run succeeds. */
  outputs?: OutputTarget;
  /** Per step: the cluster to run it on, clusters never to run it on (over the document's Placement hints). */
  placement?: PlacementRequest;
}

/** A service catalog entry: its id, and the peered cluster that holds it (none: this cluster). */
export interface ServiceRef {
  id: string;
  cluster?: string;
}

/** One output file of a run, by its path under the output target. */
export interface OutputFile {
  path: string;
  size: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** Where runs' output files go besides the node's object store: storage catalog entries. */
export interface OutputStorage {
  /** Refuses, at submission, an entry the caller may not see (NotFound) or that cannot take files (InvalidInput). */
  check(caller: RunCaller, target: OutputTarget, signal?: AbortSignal): Promise<void>;
  /** Writes the files for the run's owner; resolves with where they are (a directory, a bucket and prefix). */
  write(owner: { userId: string; userName: string }, target: OutputTarget, files: OutputFile[], signal?: AbortSignal): Promise<Record<string, unknown>>;
}

/** A data catalog entry's files, opened for one submission through an access grant to the caller. */
export interface DataEntryFiles {
  entryId: string;
  grantId: string;
  /** The peered cluster that granted it (none: this cluster). */
  cluster?: string;
  /** The local path of the entry's file or directory at `relative` ('' for the whole entry), fetched if need be. */
  fetch(relative: string, signal?: AbortSignal): Promise<string>;
}

/** Data catalog entries a job names as File or Directory locations (`archipel:catalog/<entry>[/<path>]`). */
export interface DataInputs {
  /**
   * Grants the caller access to a data entry they may see (a hidden one is NotFound, one that holds no
   * files InvalidInput); what it fetches goes under `workDir`, which the submission removes.
   */
  open(caller: RunCaller, entry: { id: string; cluster?: string }, options: { workDir: string; signal?: AbortSignal }): Promise<DataEntryFiles>;
  /** Ends a grant `open` gave, for the run's owner (harmless when it ended already; a peer's grant ends at its expiry). */
  release(owner: { userId: string; userName: string }, grant: { grantId: string; cluster?: string }): Promise<void>;
}

/** A run as its project's members see it. */
export interface Run {
  id: string;
  name: string;
  project: string;
  owner: string;
  labels: Record<string, string>;
  phase: RunPhase;
  message?: string;
  processClass: string;
  documentSha256: string;
  /** 1 for the first execution; raised by each retry or resumption. */
  attempt: number;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** The storage entry the outputs are to be written to, and where they were. */
  outputTarget?: OutputTarget;
  outputLocation?: Record<string, unknown>;
  /** Per step placed on another cluster: the cluster and why. */
  placement?: Record<string, { cluster: string; reasons: string[] }>;
  steps: StepState[];
}

export type RunEvent = RunEventRow;

export interface RunListOptions {
  project?: string;
  phase?: RunPhase;
  labels?: Record<string, string>;
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

/** An object of a run's output, with its key relative to the run. */
export interface RunObject {
  path: string;
  size: number;
}

export interface RunService extends Startable {
  submit(caller: RunCaller, run: NewRun, options?: { signal?: AbortSignal }): Promise<Run>;
  /** Where each step of a submission would run and why, from the federation as it is now; nothing is kept or run. */
  plan(caller: RunCaller, run: NewRun, options?: { signal?: AbortSignal }): Promise<PlacementPlan & { clusters: PlacementCluster[] }>;
  list(caller: RunCaller, options?: RunListOptions): Promise<{ items: Run[]; nextCursor: string | null }>;
  get(caller: RunCaller, id: string, options?: { signal?: AbortSignal }): Promise<Run>;
  /** The run's events after `afterId`, then new ones as they happen, until the run has ended. */
  events(caller: RunCaller, id: string, afterId: number, signal: AbortSignal): AsyncIterable<RunEvent>;
  /** The log of a step's process (every item's, in order), and whether the step has ended. */
  stepLogs(caller: RunCaller, id: string, step: string, options?: { signal?: AbortSignal }): Promise<{ text: string; ended: boolean }>;
  /** Stops a run: its running steps are killed and it fails. A finished run is left as it is. */
  stopRun(caller: RunCaller, id: string, options?: { signal?: AbortSignal }): Promise<Run>;
  /** Runs a failed (or stopped) run again: steps that succeeded keep their outputs, the others run again. */
  retryRun(caller: RunCaller, id: string, options?: { signal?: AbortSignal }): Promise<Run>;
  delete(caller: RunCaller, id: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * The CWL output object of a finished run; each File's and Directory's location is replaced by `link(path)`,
   * where `path` is the object's key relative to the run, or `FILE_LINK + id` for an uploaded file.
   */
  outputs(caller: RunCaller, id: string, link: (path: string) => string, options?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
  /** The CWL outputs of one step that succeeded, linked as `outputs` links them. */
  stepOutputs(caller: RunCaller, id: string, step: string, link: (path: string) => string, options?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
  openObject(caller: RunCaller, id: string, objectPath: string, options?: { signal?: AbortSignal }): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> }>;
  /**
   * Who the pod of engine run `engineName` for CWL step `step` placed on `cluster` runs for there: the run's
   * owner and project, the reservation the run holds there for that step, the uploads it reads.
   */
  executionContext(engineName: string, cluster: string, step: string, options?: { signal?: AbortSignal }): Promise<ExecutionContext>;
  /**
   * Places step `step` of engine run `engineName` again after cluster `lost` stopped answering while it ran
   * it: on the cluster the plan now prefers, the lost ones avoided, compute reserved there; recorded in the
   * run. A ConflictError when the step is pinned, lost too many clusters, or fits nowhere else.
   */
  replaceStep(engineName: string, lost: string, step: string, why: string, options?: { signal?: AbortSignal }): Promise<{ cluster: string }>;
}

export interface RunServiceOptions {
  db: SqlDatabase;
  /** The node's object store: documents, inputs, step results and outputs. */
  store: ObjectStore;
  /** The URL the engine's steps open the same store by (`file:///...` or `s3://bucket/prefix`). */
  storeUrl: string;
  engine: WorkflowEngine;
  files: Pick<FileService, 'get'>;
  /** This cluster's id, as the steps it runs are labelled. */
  clusterId: () => string;
  /** Whether the engine runs tools in their container images (else DockerRequirement is refused). */
  containers: boolean;
  /** The CWL tool and image of a `service` catalog entry the caller may see (a hidden one is NotFound). */
  services?: (caller: RunCaller, entry: ServiceRef, signal?: AbortSignal) => Promise<{ cwl: string; image: string; name: string; runsOn?: string }>;
  /** Data catalog entries as job inputs; without it, a job naming one is refused. */
  data?: DataInputs;
  /** Storage catalog entries for outputs; without it, a submission naming one is refused. */
  storage?: OutputStorage;
  /**
   * Cluster mode: the engine places steps on peers itself (Admiralty's annotations in the Workflow), so runs
   * follow their plan, with compute reserved on each peer for its steps. Without it every step runs here.
   */
  crossCluster?: {
    reserve(caller: RunCaller, cluster: string, requests: Resources, durationSeconds: number, signal?: AbortSignal): Promise<string>;
    release(owner: { userId: string; userName: string }, cluster: string, reservationId: string): Promise<void>;
  };
  /** The clusters a caller's steps could run on now (this one and its peers), for plans; without it, plans are refused. */
  federation?: (caller: RunCaller, signal?: AbortSignal) => Promise<PlacementCluster[]>;
  logger?: Logger;
  clock?: Clock;
  /** How often running runs are looked at (default 500 ms). */
  pollIntervalMs?: number;
}

const FINAL: ReadonlySet<RunPhase> = new Set(['Succeeded', 'Failed', 'Error']);
const STEP_ENDED: ReadonlySet<StepState['phase']> = new Set(['Succeeded', 'Failed']);
/** How long compute is reserved on a peer for a step placed there (given back when the run ends). */
const RESERVATION_SECONDS = 24 * 3600;
/** How many clusters a step may lose before its run fails. */
const MAX_REPLACEMENTS = 2;
/** What `outputs` passes to its `link` for an uploaded file: `FILE_LINK + <file id>`. */
export const FILE_LINK = 'upload:';
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const EVENT_BATCH = 500;
const LABEL = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** A catalog location's entry, or undefined for anything else (a malformed one too: the submission names it). */
const catalogLocationOrNone = (location: unknown) => {
  try {
    return catalogLocation(location, 'job');
  } catch {
    return undefined;
  }
};

const newRunId = () => randomBytes(8).toString('hex');
const engineRunName = (id: string, attempt: number) => `archipel-${id}-${attempt}`;

function visibleTo(caller: RunCaller, run: RunRow) {
  return caller.principal.isAdmin || caller.projects.includes(run.project);
}

function toRun(row: RunRow, steps: StepState[]): Run {
  return {
    id: row.id,
    name: row.name,
    project: row.project,
    owner: row.owner,
    labels: row.labels,
    phase: row.phase,
    ...(row.message !== undefined ? { message: row.message } : {}),
    processClass: row.processClass,
    documentSha256: row.documentSha256,
    attempt: row.attempt,
    createdAt: row.createdAt,
    ...(row.startedAt ? { startedAt: row.startedAt } : {}),
    ...(row.finishedAt ? { finishedAt: row.finishedAt } : {}),
    ...(row.outputTarget ? { outputTarget: row.outputTarget } : {}),
    ...(row.outputLocation ? { outputLocation: row.outputLocation } : {}),
    ...(row.placement ? { placement: row.placement } : {}),
    steps,
  };
}

/** An upload's object key: `files/<id>/<name>`. */
const UPLOAD_KEY = /^files\/([0-9a-f]{32})\//;

/** The ids of the uploads a value names by their object keys. */
function uploadsIn(value: unknown): string[] {
  const ids: string[] = [];
  visitFsObjects(value, (obj) => {
    const id = UPLOAD_KEY.exec(objectKeyOf(obj.location) ?? '')?.[1];
    if (id) ids.push(id);
  });
  return ids;
}

/** The stored files an output object names under `prefix`, each with a path relative to its File or Directory. */
async function outputFiles(store: ObjectStore, outputs: Record<string, unknown>, prefix: string): Promise<OutputFile[]> {
  const files: OutputFile[] = [];
  const taken = new Set<string>();
  const unique = (name: string) => {
    let candidate = name;
    for (let n = 1; taken.has(candidate); n++) candidate = `${path.posix.dirname(name) === '.' ? '' : `${path.posix.dirname(name)}/`}${n}-${path.posix.basename(name)}`;
    taken.add(candidate);
    return candidate;
  };
  const add = (key: string, size: number, name: string) => files.push({ path: unique(name), size, open: async () => (await store.get(key)).body });
  await mapFsObjects(outputs, async (value, nested) => {
    const key = objectKeyOf(value.location);
    if (key !== undefined && key.startsWith(prefix)) {
      const basename = typeof value.basename === 'string' ? value.basename : path.posix.basename(key);
      if (value.class === 'File') add(key, (await store.head(key)).size, basename);
      else {
        for await (const info of store.list(`${key}/`)) {
          if (path.posix.basename(info.key) !== '.archipel-empty-dir') add(info.key, info.size, `${basename}/${info.key.slice(key.length + 1)}`);
        }
      }
    }
    if (Array.isArray(value.secondaryFiles)) await nested(value.secondaryFiles);
    return value;
  });
  return files;
}

const stepChanged = (a: StepState | undefined, b: StepState) => JSON.stringify(a) !== JSON.stringify(b);

/** What an event says of a step: its state without the engine's pod ids. */
// A step event says what changed; the step's shape (kind, scatter, needs) is in the run.
const stepEvent = ({ pods: _pods, kind: _kind, scatter: _scatter, needs: _needs, ...rest }: StepState) => rest as unknown as Record<string, unknown>;

/**
 * The run service (ARCHITECTURE.md §9): users' workflow runs on this node. A submission is checked
 * whole before anything is kept — the document, the job against its inputs, the files it names — then
 * its document is stored once by content, its inputs and translated Argo Workflow are written, and the
 * workflow-engine port runs it. The service follows each run through the port (never asking which
 * adapter it has), records its steps and an event for every change, and keeps runs across restarts:
 * a run the engine no longer knows of, or lost, ends as Failed with the reason, never silently.
 */
export function createRunService(options: RunServiceOptions): RunService {
  const { db, store, engine } = options;
  const records = createRunRecords(db);
  const logger = (options.logger ?? silentLogger).child({ component: 'runs' });
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollIntervalMs ?? 500;
  const bus = new EventEmitter().setMaxListeners(0);
  const watched = new Map<string, { timer?: NodeJS.Timeout; busy: boolean }>();
  const workflows = new Map<string, Workflow>();
  const logs = createLogFollower({
    engine,
    recordedEnds: (id) => records.logEnds(id),
    onError: (error, where) => logger.warn('cannot read a step log for the run events; trying again', { run: where.runId, pod: where.pod, error: describeError(error) }),
  });
  let stopped = false;

  async function visible(caller: RunCaller, id: string, signal?: AbortSignal): Promise<RunRow> {
    const row = /^[0-9a-f]{16}$/.test(id) ? await records.get(id, signal) : undefined;
    if (!row || !visibleTo(caller, row)) throw new NotFoundError(`no run "${id}"`);
    return row;
  }

  async function workflowOf(row: RunRow): Promise<Workflow> {
    let wf = workflows.get(row.id);
    if (!wf) {
      wf = await readJson<Workflow>(store, `${row.scope}/process.json`);
      workflows.set(row.id, wf);
    }
    return wf;
  }

  async function record(id: string, change: Parameters<typeof records.update>[1]) {
    const events = await records.update(id, change, clock.now());
    if (events.length) bus.emit(id);
    return events;
  }

  /** Looks at the engine's run once and records what changed; true once the run has ended. */
  async function observe(id: string): Promise<boolean> {
    const row = await records.get(id);
    if (!row) return true;
    if (FINAL.has(row.phase)) return true;
    if (!row.engineName) {
      await finish(row, 'Failed', 'the node stopped before the run reached the workflow engine', undefined);
      return true;
    }
    let state: RunState;
    try {
      state = await engine.get(row.engineName);
    } catch (error) {
      if (error instanceof NotFoundError) {
        await finish(row, 'Failed', `the workflow engine has no record of this run (${row.engineName})`, undefined);
        return true;
      }
      throw error;
    }
    const steps = deriveStepStates({ workflow: await workflowOf(row), manifest: row.manifest, state, localCluster: options.clusterId(), placement: row.placement });
    const before = new Map((await records.steps(id)).map((s) => [s.step, s]));
    const changedSteps = steps.filter((s) => stepChanged(before.get(s.step), s));
    const runChange: Parameters<typeof records.update>[1]['run'] = {};
    const transitions = changedSteps.filter((s) => before.get(s.step)?.phase !== s.phase);
    // Logs of the steps that run, and the last lines of those that just ended, come before their transitions.
    const logged = await logs.next(
      { id, attempt: row.attempt, engineName: row.engineName },
      steps.filter((s) => s.phase === 'Running' || (transitions.includes(s) && STEP_ENDED.has(s.phase))),
      state,
    );
    const events: { type: RunEventRow['type']; data: Record<string, unknown> }[] = [
      ...logged.map((data) => ({ type: 'log' as const, data })),
      ...transitions.map((s) => ({ type: 'step' as const, data: stepEvent(s) })),
    ];
    if (state.phase === 'Running' && row.phase === 'Pending') {
      Object.assign(runChange, { phase: 'Running', startedAt: state.startedAt ? new Date(state.startedAt) : clock.now() });
      events.unshift({ type: 'run', data: { phase: 'Running' } });
    }
    if (events.length || changedSteps.length || Object.keys(runChange).length) {
      await record(id, { run: runChange, steps: changedSteps, events });
      logs.recorded(id, logged);
    }
    if (!FINAL.has(state.phase)) return false;
    let outputs: Record<string, unknown> | undefined;
    if (state.phase === 'Succeeded') {
      try {
        outputs = await readJson<Record<string, unknown>>(store, `${row.scope}/outputs.json`);
      } catch (error) {
        await finish(row, 'Error', `the run succeeded but its output object cannot be read: ${describeError(error)}`, undefined);
        return true;
      }
    }
    if (outputs && row.outputTarget) {
      if (!options.storage) {
        await finish(row, 'Error', 'this node cannot write outputs to storage entries', outputs);
        return true;
      }
      try {
        const files = await outputFiles(store, outputs, `${row.scope}/`);
        const location = await options.storage.write({ userId: row.ownerId, userName: row.owner }, row.outputTarget, files);
        await record(row.id, { run: { outputLocation: location }, events: [] });
        logger.info('run outputs written to storage', { run: id, entry: row.outputTarget.entry, files: files.length });
      } catch (error) {
        await finish(row, 'Error', `the run succeeded but its outputs could not be written to storage entry "${row.outputTarget.entry}": ${describeError(error)}`, outputs);
        return true;
      }
    }
    const failed = steps.filter((s) => s.phase === 'Failed');
    const message = state.phase === 'Succeeded' ? undefined : failed.length ? failed.map((s) => `step ${s.step} failed: ${s.message ?? 'Failed'}`).join('; ') : (state.message ?? state.phase);
    await finish(row, state.phase, message, outputs, state.finishedAt ? new Date(state.finishedAt) : undefined);
    return true;
  }

  async function finish(row: RunRow, phase: RunPhase, message: string | undefined, outputs: Record<string, unknown> | undefined, at?: Date) {
    // A run seen to have ended holds no access and no compute any more.
    await releaseGrants(await records.heldGrants(row.id));
    if (options.crossCluster) await releaseReservations(await records.heldReservations(row.id));
    await record(row.id, {
      run: { phase, message, finishedAt: at ?? clock.now(), ...(outputs ? { outputs } : {}), ...(row.startedAt ? {} : { startedAt: at ?? clock.now() }) },
      events: [{ type: 'run', data: { phase, ...(message !== undefined ? { message } : {}) } }],
    });
    workflows.delete(row.id);
    logs.forget(row.id);
    logger.info('run ended', { run: row.id, phase, ...(message ? { message } : {}) });
  }

  /** The plan of a submission's steps over the federation as the caller sees it now. */
  async function planFor(caller: RunCaller, submitted: { workflow: Workflow; runsOn?: string | undefined }, submission: NewRun, signal?: AbortSignal) {
    const { workflow } = submitted;
    const steps = demandsOf(submitted, submission);
    const self = options.clusterId();
    // The job's uploads are data on this cluster; the data entries it names are data on their clusters,
    // of a size not known before they are read. The steps that read them weigh them.
    const bytes = await uploadedBytes(caller, submission.job, signal);
    const entries = catalogEntriesOf(submission.job, self);
    for (const demand of steps) {
      const step = workflow.steps.find((s) => s.id === demand.step);
      const inputs = (step?.in ?? []).flatMap((i) => i.source).map((source) => parseSource(source, workflow)).flatMap((ref) => (ref.kind === 'input' ? [ref.name] : []));
      const read = inputs.reduce((sum, name) => sum + (bytes.get(name) ?? 0), 0);
      if (read > 0) demand.reads.push({ cluster: self, bytes: read });
      for (const name of new Set(inputs)) for (const e of entries.get(name) ?? []) demand.reads.push({ cluster: e.cluster, bytes: 0, entry: e.entryId });
    }
    if (!options.federation) throw new NotImplementedError('this node cannot plan runs across the federation');
    const clusters = await options.federation(caller, signal);
    return { ...planPlacement({ steps, clusters }), clusters, demands: steps };
  }

  /**
   * Readiness before anything runs: compute reserved on each peer for each step placed there; a refusal
   * gives back what was reserved and names the step, the cluster and the reason.
   */
  async function reserveOnPeers(caller: RunCaller, placed: { step: string; cluster: string; requests: Resources }[], signal?: AbortSignal): Promise<RunReservation[]> {
    const made: RunReservation[] = [];
    try {
      for (const p of placed) {
        const reservationId = await options.crossCluster!.reserve(caller, p.cluster, p.requests, RESERVATION_SECONDS, signal).catch((error: unknown) => {
          const why = describeError(error);
          throw new ConflictError(`step ${p.step} cannot be readied on cluster ${p.cluster}: ${why}`, { details: { step: p.step, cluster: p.cluster }, cause: error });
        });
        made.push({ step: p.step, cluster: p.cluster, reservationId });
      }
      return made;
    } catch (error) {
      await giveBackReservations(caller.principal, made);
      throw error;
    }
  }

  /** Gives back reservations no run records (of a submission that did not go through); a failure is only logged. */
  async function giveBackReservations(owner: { userId: string; userName: string }, made: readonly RunReservation[]) {
    for (const r of made) {
      await options.crossCluster!.release(owner, r.cluster, r.reservationId).catch((error: unknown) => {
        logger.warn('cannot give back compute reserved on a peer for a refused submission; it ends at its expiry', { cluster: r.cluster, error: describeError(error) });
      });
    }
  }

  /** Gives back the compute runs reserved on peers; one that cannot be is tried again at the next start. */
  async function releaseReservations(held: Awaited<ReturnType<typeof records.heldReservations>>) {
    for (const r of held) {
      try {
        await options.crossCluster!.release({ userId: r.ownerId, userName: r.owner }, r.cluster, r.reservationId);
        await records.reservationReleased(r.runId, r.reservationId, clock.now());
      } catch (error) {
        logger.warn('cannot give back compute reserved on a peer for a run; trying again when the node starts', { run: r.runId, cluster: r.cluster, error: describeError(error) });
      }
    }
  }

  /** Gives back the data entries' grants of runs that ended; one that cannot be is tried again at the next start. */
  async function releaseGrants(held: Awaited<ReturnType<typeof records.heldGrants>>) {
    for (const g of held) {
      try {
        if (!options.data) throw new Error('this node has no data inputs');
        await options.data.release({ userId: g.ownerId, userName: g.owner }, g);
        await records.grantReleased(g.runId, g.grantId, clock.now());
        logger.info('data entry access of a run ended', { run: g.runId, entry: g.entryId, grant: g.grantId });
      } catch (error) {
        logger.warn('cannot end the access grant of a run; trying again when the node starts', { run: g.runId, grant: g.grantId, error: describeError(error) });
      }
    }
  }

  /** Opens, once per entry, the data entries a job names, and makes local copies of what it names. */
  function dataFilesFor(caller: RunCaller, work: string, opened: Map<string, DataEntryFiles>, signal?: AbortSignal) {
    return async ({ entryId, cluster, relative }: CatalogLocation, at: string) => {
      if (!options.data) throw new InvalidInputError(`${at}: this node cannot read data catalog entries for a run`, [{ path: at, message: 'not available' }]);
      const key = cluster === undefined || cluster === options.clusterId() ? entryId : `${cluster}/${entryId}`;
      const entry = { id: entryId, ...(key !== entryId ? { cluster } : {}) };
      let files = opened.get(key);
      if (!files) {
        try {
          files = await options.data.open(caller, entry, { workDir: path.join(work, 'data', String(opened.size)), ...(signal ? { signal } : {}) });
        } catch (error) {
          if (error instanceof NotFoundError) throw new InvalidInputError(`${at}: no data catalog entry "${entryId}"${entry.cluster ? ` on cluster ${entry.cluster}` : ''} that you may see`, [{ path: at, message: 'unknown data entry' }], { cause: error });
          if (error instanceof InvalidInputError) throw new InvalidInputError(`${at}: ${error.message}`, [{ path: at, message: error.issues[0]?.message ?? 'cannot be read' }], { cause: error });
          throw error;
        }
        opened.set(key, files);
      }
      try {
        return await files.fetch(relative, signal);
      } catch (error) {
        if (error instanceof NotFoundError || error instanceof InvalidInputError) throw new InvalidInputError(`${at}: ${error.message}`, [{ path: at, message: 'not in the data entry' }], { cause: error });
        throw error;
      }
    };
  }

  function watch(id: string) {
    if (stopped || watched.has(id)) return;
    const entry: { timer?: NodeJS.Timeout; busy: boolean } = { busy: false };
    watched.set(id, entry);
    const tick = async () => {
      if (entry.busy) return;
      entry.busy = true;
      try {
        if (await observe(id)) {
          clearInterval(entry.timer);
          watched.delete(id);
        }
      } catch (error) {
        logger.warn('cannot follow a run; trying again', { run: id, error: describeError(error) });
      } finally {
        entry.busy = false;
      }
    };
    entry.timer = setInterval(tick, pollMs);
    entry.timer.unref?.();
    void tick();
  }

  async function removeObjects(prefix: string) {
    const keys: string[] = [];
    for await (const info of store.list(prefix)) keys.push(info.key);
    for (const key of keys) await store.delete(key);
  }

  async function storeDocument(sha256: string, text: string, signal?: AbortSignal): Promise<string> {
    const key = `documents/sha256-${sha256}`;
    try {
      await store.head(key, { signal });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await store.put(key, new TextEncoder().encode(text), { signal, contentType: 'text/plain; charset=utf-8' });
    }
    return key;
  }

  /** The document given inline, or a service entry's tool with its image as a DockerRequirement hint. */
  async function submittedDocument(caller: RunCaller, submission: NewRun, signal?: AbortSignal) {
    if ((submission.cwl === undefined) === (submission.service === undefined)) {
      throw new InvalidInputError('give the CWL document (cwl) or a service catalog entry (service), not both', [{ path: 'cwl', message: 'cwl or service' }]);
    }
    if (submission.cwl !== undefined) return readRunDocument(submission.cwl, submission.process);
    if (!options.services) throw new InvalidInputError('this node runs no catalog services', [{ path: 'service', message: 'not available' }]);
    const ref = typeof submission.service === 'string' ? { id: submission.service } : submission.service!;
    const service = await options.services(caller, ref, signal);
    const document = await readRunDocument(service.cwl);
    // On an Argo server the tool runs in the service's image; the local engine runs it on the host.
    const image = { class: 'DockerRequirement', dockerPull: service.image };
    for (const step of document.workflow.steps) {
      if (!step.run.requirements.some((r) => r.class === 'DockerRequirement')) step.run.hints = [...step.run.hints.filter((h) => h.class !== 'DockerRequirement'), image];
    }
    return { ...document, name: service.name as string | undefined, runsOn: service.runsOn };
  }

  /** An output object with each File's and Directory's location replaced by `link(path)` (see `RunService.outputs`). */
  async function linkedOutputs(row: RunRow, outputs: Record<string, unknown>, link: (path: string) => string, signal?: AbortSignal) {
    const prefix = `${row.scope}/`;
    return mapFsObjects(outputs, async (value, nested) => {
      const out: Record<string, unknown> = { ...value };
      const key = objectKeyOf(value.location);
      // An input passed on as an output is still the upload it was: linked as that upload.
      const upload = key !== undefined ? UPLOAD_KEY.exec(key) : null;
      // A download names the file by its basename, which an object named only by location lacks.
      if (key !== undefined && out.basename === undefined) out.basename = path.posix.basename(key);
      if (upload && value.class === 'File') out.location = link(`${FILE_LINK}${upload[1]}`);
      if (key !== undefined && key.startsWith(prefix)) {
        out.location = link(key.slice(prefix.length));
        if (value.class === 'Directory') {
          const listing: Record<string, unknown>[] = [];
          for await (const info of store.list(`${key}/`, { signal })) {
            if (path.basename(info.key) === '.archipel-empty-dir') continue;
            listing.push({ class: 'File', location: link(info.key.slice(prefix.length)), basename: info.key.slice(key.length + 1), size: info.size });
          }
          out.listing = listing;
        }
      }
      if (Array.isArray(value.secondaryFiles)) out.secondaryFiles = await nested(value.secondaryFiles);
      return out;
    });
  }

  /** The bytes of the uploads each job input names (uploads the caller may not use count nothing). */
  async function uploadedBytes(caller: RunCaller, job: Record<string, unknown>, signal?: AbortSignal): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [name, value] of Object.entries(job)) {
      const ids: string[] = [];
      visitFsObjects(value, (obj) => {
        const id = uploadedFileId(obj.location);
        if (id !== undefined) ids.push(id);
      });
      let total = 0;
      for (const id of ids) total += await options.files.get(caller, id, { ...(signal ? { signal } : {}) }).then((f) => f.size, () => 0);
      out.set(name, total);
    }
    return out;
  }

  /** The data entries each job input names, with the cluster that holds them. */
  function catalogEntriesOf(job: Record<string, unknown>, self: string): Map<string, { entryId: string; cluster: string }[]> {
    const out = new Map<string, { entryId: string; cluster: string }[]>();
    for (const [name, value] of Object.entries(job)) {
      visitFsObjects(value, (obj) => {
        const location = catalogLocationOrNone(obj.location);
        if (location) out.set(name, [...(out.get(name) ?? []), { entryId: location.entryId, cluster: location.cluster ?? self }]);
      });
    }
    return out;
  }

  /** What each tool step asks of the federation: the document's and the request's, and its service's restriction. */
  function demandsOf(submitted: { workflow: Workflow; runsOn?: string | undefined }, submission: NewRun) {
    const demands = stepDemands(submitted.workflow, submission.placement);
    return submitted.runsOn === undefined ? demands : demands.map((d) => ({ ...d, serviceCluster: submitted.runsOn }));
  }

  /** The run's owner acting in the run's project, as when they submitted it (for what the run does later). */
  function ownerOf(row: RunRow): RunCaller {
    return { principal: { userId: row.ownerId, userName: row.owner, isAdmin: false, tokenId: 'run-placement' }, projects: [row.project] };
  }

  /** Compute reserved again on the peers where the run's unfinished steps are placed, for a retry. */
  async function reserveAgain(row: RunRow, signal?: AbortSignal): Promise<RunReservation[]> {
    const self = options.clusterId();
    const done = new Set((await records.steps(row.id, signal)).filter((s) => s.phase === 'Succeeded').map((s) => s.step));
    const placed = Object.entries(row.placement ?? {}).filter(([step, p]) => p.cluster !== self && !done.has(step));
    if (!placed.length || !options.crossCluster) return [];
    const demands = stepDemands(await workflowOf(row));
    return reserveOnPeers(ownerOf(row), placed.map(([step, p]) => ({ step, cluster: p.cluster, requests: demands.find((d) => d.step === step)!.requests })), signal);
  }

  /** The unfinished run the engine executes as `engineName`. */
  async function runOfEngine(engineName: string, signal?: AbortSignal): Promise<RunRow> {
    const id = /^archipel-([0-9a-f]{16})-\d+$/.exec(engineName)?.[1];
    const row = id !== undefined ? await records.get(id, signal) : undefined;
    if (!row || FINAL.has(row.phase)) throw new NotFoundError(`no run in progress is executed as ${engineName}`);
    return row;
  }

  /** What the request, the document or the step's service asked of a step's placement: pinned, or clusters to avoid. */
  function placementRequest(demands: ReturnType<typeof stepDemands>, step: string): { pinned?: true; avoid?: string[] } {
    const demand = demands.find((d) => d.step === step);
    if (demand?.pin !== undefined || demand?.serviceCluster !== undefined) return { pinned: true };
    return demand?.avoid?.length ? { avoid: [...demand.avoid] } : {};
  }

  /** Administrators see every run, but run only in projects they are members of, like everyone. */
  function checkMember(caller: RunCaller, project: string) {
    if (!caller.projects.includes(project)) throw new NotFoundError(`project "${project}" not found, or you are not one of its members`, { details: { field: 'project' } });
  }

  /** Until steps run on peers, a run whose steps must run elsewhere is refused, naming them. */
  function checkLocalPlacement(steps: ReturnType<typeof stepDemands>, self: string) {
    const elsewhere = steps.filter((s) => (s.pin !== undefined && s.pin !== self) || s.avoid?.includes(self) || (s.serviceCluster !== undefined && s.serviceCluster !== self));
    const why = (s: (typeof steps)[number]) =>
      s.serviceCluster !== undefined && s.serviceCluster !== self
        ? `runs a service that runs only on cluster ${s.serviceCluster}`
        : s.pin !== undefined && s.pin !== self
          ? `is pinned to cluster ${s.pin}`
          : 'avoids this cluster';
    if (elsewhere.length) {
      throw new NotImplementedError(
        `${elsewhere.map((s) => `step ${s.step} ${why(s)}`).join('; ')}: steps run on the cluster they are submitted to for now (dryRun=true shows where they would go)`,
        { details: { steps: elsewhere.map((s) => s.step) } },
      );
    }
  }

  function checkLabels(labels: Record<string, string>) {
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL.test(k) || v.length > 63) {
        throw new InvalidInputError(`label ${JSON.stringify(k)}: keys are 1–63 letters, digits, "-", "_" or "." (starting and ending with a letter or digit), values at most 63 characters`);
      }
    }
  }

  return {
    async start() {
      stopped = false;
      for (const row of await records.unfinished()) watch(row.id);
      await releaseGrants(await records.heldGrants());
      if (options.crossCluster) await releaseReservations(await records.heldReservations());
    },

    async stop() {
      stopped = true;
      for (const entry of watched.values()) clearInterval(entry.timer);
      watched.clear();
      bus.emit('stop');
    },

    async plan(caller, submission, planOptions = {}) {
      const { signal } = planOptions;
      checkMember(caller, submission.project);
      const submitted = await submittedDocument(caller, submission, signal);
      checkProcessRequirements(submitted.workflow, { containers: options.containers });
      return planFor(caller, submitted, submission, signal);
    },

    async submit(caller, submission, submitOptions = {}) {
      const { signal } = submitOptions;
      checkMember(caller, submission.project);
      checkLabels(submission.labels ?? {});
      const submitted = await submittedDocument(caller, submission, signal);
      // Where steps run: all here, unless the engine can place them on peers (cluster mode, Admiralty).
      const self = options.clusterId();
      const plan = options.crossCluster ? await planFor(caller, submitted, submission, signal) : undefined;
      const onPeers = (plan?.steps ?? []).filter((p) => p.cluster !== self);
      if (!options.crossCluster) checkLocalPlacement(demandsOf(submitted, submission), self);
      // Files the document itself names (defaults) are uploads the caller may use, as in a job.
      const document = { ...submitted, workflow: await resolveJobFiles(caller, submitted.workflow, options.files, signal, 'cwl') };
      checkProcessRequirements(document.workflow, { containers: options.containers });
      if (submission.outputs) {
        if (!options.storage) throw new InvalidInputError('this node cannot write outputs to storage entries', [{ path: 'outputs', message: 'not available' }]);
        await options.storage.check(caller, submission.outputs, signal);
      }

      const id = newRunId();
      const scope = `runs/${id}`;
      const work = await mkdtemp(path.join(tmpdir(), 'archipel-submit-'));
      const opened = new Map<string, DataEntryFiles>();
      let inserted = false;
      let reservations: RunReservation[] = [];
      try {
        // Data entries the job names are read through grants the run holds until it ends; their files are
        // copied into the run's inputs below, like the job's other local files.
        const job = await resolveJobFiles(caller, submission.job, options.files, signal, 'job', dataFilesFor(caller, work, opened, signal));
        // The job is checked and completed (defaults, file sizes, secondary files) on local copies of its
        // files, then its files are named by their keys in the store (uploads are not copied again).
        const mirror = createStoreMirror(store, path.join(work, 'objects'));
        const local = await mirror.materialize(job, signal);
        const prepared = await prepareWorkflowJob(await mirror.materialize(document.workflow, signal), local, { jobDir: work, literalDir: path.join(work, 'literals') });
        const inputs = await mirror.publish(prepared, `${scope}/inputs`, signal);
        const documentKey = await storeDocument(document.sha256, document.text, signal);
        await writeJson(store, `${scope}/job.json`, inputs);
        await writeJson(store, `${scope}/process.json`, document.workflow);

        reservations = await reserveOnPeers(caller, onPeers.map((p) => ({ step: p.step, cluster: p.cluster, requests: plan!.demands.find((d) => d.step === p.step)!.requests })), signal);
        const manifest = translateWorkflow(document.workflow, { runId: id, placement: Object.fromEntries(onPeers.map((p) => [p.step, p.cluster])) });
        const metadata = manifest.metadata as Record<string, unknown>;
        delete metadata.generateName;
        metadata.name = engineRunName(id, 1);
        const now = clock.now();
        const row: RunRow = {
          id,
          project: submission.project,
          ownerId: caller.principal.userId,
          owner: caller.principal.userName,
          name: submission.name ?? ('name' in document ? document.name : undefined) ?? document.workflow.label ?? `run-${id}`,
          labels: submission.labels ?? {},
          phase: 'Pending',
          documentKey,
          documentSha256: document.sha256,
          processClass: document.processClass,
          job: submission.job,
          scope,
          manifest,
          attempt: 1,
          ...(submission.outputs ? { outputTarget: submission.outputs } : {}),
          ...(onPeers.length ? { placement: Object.fromEntries(onPeers.map((p) => [p.step, { cluster: p.cluster, reasons: p.reasons, ...placementRequest(plan!.demands, p.step) }])) } : {}),
          createdAt: now,
        };
        const steps = deriveStepStates({ workflow: document.workflow, manifest, state: undefined, localCluster: options.clusterId() });
        const grants: RunGrant[] = [...opened.values()].map((files) => ({ entryId: files.entryId, grantId: files.grantId, ...(files.cluster ? { cluster: files.cluster } : {}) }));
        await records.insert(row, steps, signal, { grants, files: [...uploadsIn(inputs), ...uploadsIn(document.workflow)], reservations });
        inserted = true;
        workflows.set(id, document.workflow);
        const cache = submission.reuse === false ? '' : `cache/${submission.project}`;
        const { name } = await engine.submit(manifest, { parameters: { store: options.storeUrl, cache }, signal });
        await record(id, { run: { engineName: name }, events: [] });
        logger.info('run submitted', { run: id, project: row.project, user: row.owner, engine: name });
        watch(id);
        return toRun({ ...row, engineName: name }, steps);
      } catch (error) {
        // Nothing of a refused submission stays: its row, its objects (the shared document may stay).
        workflows.delete(id);
        if (inserted) await records.delete(id).catch(() => {});
        await removeObjects(`${scope}/`).catch(() => {});
        for (const files of opened.values()) await options.data?.release(caller.principal, files).catch(() => {});
        await giveBackReservations(caller.principal, reservations);
        throw error;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },

    async executionContext(engineName, cluster, step, contextOptions = {}) {
      const { signal } = contextOptions;
      const row = await runOfEngine(engineName, signal);
      // Reservations are made per top-level step: a subworkflow's steps run under their step's.
      const top = step.split('/')[0]!;
      const held = (await records.heldReservations(row.id, signal)).find((r) => r.cluster === cluster && r.step === top);
      if (!held) throw new ConflictError(`run ${row.id} holds no compute reservation on cluster ${cluster} for step ${top}`);
      const files = await records.fileIds(row.id, signal);
      return { run: row.id, user: row.owner, project: row.project, reservationId: held.reservationId, reads: files.map((f) => `files/${f}/`) };
    },

    async replaceStep(engineName, lost, step, why, replaceOptions = {}) {
      const { signal } = replaceOptions;
      const row = await runOfEngine(engineName, signal);
      const top = step.split('/')[0]!;
      const placed = row.placement?.[top];
      if (placed?.pinned) throw new ConflictError(`step ${top} is pinned to cluster ${lost}: it is not placed elsewhere`);
      const lostSoFar = [...(placed?.lost ?? []), lost];
      if (lostSoFar.length > MAX_REPLACEMENTS) throw new ConflictError(`step ${top} lost ${lostSoFar.length} clusters (${lostSoFar.join(', ')}); it is not placed again`);
      // The clusters lost are avoided.
      const caller = ownerOf(row);
      const submission: NewRun = { project: row.project, job: row.job, placement: { [top]: { avoid: [...(placed?.avoid ?? []), ...lostSoFar] } } };
      const plan = await planFor(caller, { workflow: await workflowOf(row) }, submission, signal).catch((error: unknown) => {
        throw new ConflictError(`step ${top} cannot be placed again after cluster ${lost} was lost: ${describeError(error)}`, { cause: error });
      });
      const chosen = plan.steps.find((p) => p.step === top)!;
      const self = options.clusterId();
      if (chosen.cluster !== self) {
        const [made] = await reserveOnPeers(caller, [{ step: top, cluster: chosen.cluster, requests: plan.demands.find((d) => d.step === top)!.requests }], signal);
        await records.addReservation(row.id, made!);
      }
      const reasons = [`placed again: cluster ${lost} was lost (${why})`, ...chosen.reasons];
      const placement = { ...row.placement, [top]: { ...placed, cluster: chosen.cluster, reasons, lost: lostSoFar } };
      // The step's next state (its cluster changed) is the event that tells it.
      await record(row.id, { run: { placement }, events: [] });
      logger.warn('step placed again after its cluster was lost', { run: row.id, step: top, lost, cluster: chosen.cluster });
      return { cluster: chosen.cluster };
    },

    async list(caller, listOptions = {}) {
      const limit = Math.min(Math.max(listOptions.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
      let after: { createdAt: Date; id: string } | undefined;
      if (listOptions.cursor) {
        const [time, id] = Buffer.from(listOptions.cursor, 'base64url').toString('utf8').split('|');
        const createdAt = new Date(time ?? '');
        if (Number.isNaN(createdAt.getTime()) || !id) throw new InvalidInputError('invalid cursor: use the nextCursor of the previous page', [{ path: 'cursor', message: 'invalid' }]);
        after = { createdAt, id };
      }
      const rows = await records.list(
        {
          ...(caller.principal.isAdmin ? {} : { visibleProjects: caller.projects }),
          ...(listOptions.project !== undefined ? { project: listOptions.project } : {}),
          ...(listOptions.phase !== undefined ? { phase: listOptions.phase } : {}),
          ...(listOptions.labels ? { labels: listOptions.labels } : {}),
          limit: limit + 1,
          ...(after ? { after } : {}),
        },
        listOptions.signal,
      );
      const page = rows.slice(0, limit);
      const steps = await records.stepsOf(page.map((r) => r.id), listOptions.signal);
      const items = page.map((r) => toRun(r, steps.get(r.id)!));
      const last = page.at(-1);
      return { items, nextCursor: rows.length > limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null };
    },

    async get(caller, id, getOptions = {}) {
      const row = await visible(caller, id, getOptions.signal);
      return toRun(row, await records.steps(row.id, getOptions.signal));
    },

    async *events(caller, id, afterId, signal) {
      await visible(caller, id, signal);
      let last = afterId;
      for (;;) {
        // Listen before reading, so that an event recorded in between is not missed.
        const next = new Promise<void>((resolve) => {
          const done = () => {
            bus.off(id, done);
            bus.off('stop', done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          bus.once(id, done);
          bus.once('stop', done);
          signal.addEventListener('abort', done, { once: true });
        });
        const batch = await records.events(id, last, EVENT_BATCH, signal);
        for (const event of batch) {
          last = event.id;
          yield event;
        }
        if (batch.length === EVENT_BATCH) {
          bus.emit(id);
          continue;
        }
        const row = await records.get(id, signal);
        if (!row || FINAL.has(row.phase) || signal.aborted || stopped) {
          if (row && FINAL.has(row.phase) && !signal.aborted) {
            // Events recorded with the final phase were read above unless they landed just now.
            for (const event of await records.events(id, last, EVENT_BATCH, signal)) yield event;
          }
          bus.emit(id);
          return;
        }
        await next;
      }
    },

    async stepLogs(caller, id, step, logOptions = {}) {
      const row = await visible(caller, id, logOptions.signal);
      const steps = await records.steps(id, logOptions.signal);
      const state = steps.find((s) => s.step === step);
      if (!state) throw new NotFoundError(`run "${id}" has no step "${step}"`);
      const texts: string[] = [];
      for (const pod of state.pods) {
        if (!row.engineName) break;
        const text = await engine.logs(row.engineName, pod, { container: 'main', signal: logOptions.signal }).catch((error: unknown) => {
          if (error instanceof NotFoundError) return '';
          throw error;
        });
        texts.push(state.pods.length > 1 ? `== ${pod}\n${text}` : text);
      }
      return { text: texts.join(''), ended: !['Pending', 'Running'].includes(state.phase) || FINAL.has(row.phase) };
    },

    async stopRun(caller, id, stopOptions = {}) {
      const row = await visible(caller, id, stopOptions.signal);
      if (!FINAL.has(row.phase)) {
        if (row.engineName) await engine.stop(row.engineName, stopOptions);
        await observe(id);
        const after = await records.get(id);
        if (after && !FINAL.has(after.phase)) await finish(after, 'Failed', 'stopped', undefined);
      }
      const updated = (await records.get(id))!;
      return toRun(updated, await records.steps(updated.id));
    },

    async retryRun(caller, id, retryOptions = {}) {
      const row = await visible(caller, id, retryOptions.signal);
      if (!FINAL.has(row.phase)) throw new ConflictError(`run "${id}" is ${row.phase}: only a run that ended can be retried`);
      if (row.phase === 'Succeeded') throw new ConflictError(`run "${id}" succeeded: there is nothing to retry`);
      if (!row.engineName) throw new ConflictError(`run "${id}" never reached the workflow engine: submit it again`);
      const deleted = await records.deletedFiles(id, retryOptions.signal);
      if (deleted.length) throw new ConflictError(`run "${id}" reads uploaded files that were deleted since (${deleted.join(', ')}): submit it again with new uploads`);
      // Steps placed on peers run again under new reservations there (the run's ended with it).
      const reservations = await reserveAgain(row, retryOptions.signal);
      try {
        await engine.retry(row.engineName, retryOptions);
      } catch (error) {
        await giveBackReservations({ userId: row.ownerId, userName: row.owner }, reservations);
        throw error;
      }
      for (const r of reservations) await records.addReservation(id, r);
      const attempt = row.attempt + 1;
      await record(id, { run: { phase: 'Running', message: undefined, finishedAt: undefined, attempt }, events: [{ type: 'run', data: { phase: 'Running', attempt } }] });
      logger.info('run retried', { run: id, attempt });
      watch(id);
      const updated = (await records.get(id))!;
      return toRun(updated, await records.steps(id));
    },

    async delete(caller, id, deleteOptions = {}) {
      const row = await visible(caller, id, deleteOptions.signal);
      if (!FINAL.has(row.phase)) throw new ConflictError(`run "${id}" is ${row.phase}: stop it before deleting it`);
      await removeObjects(`${row.scope}/`);
      if (row.engineName) await engine.delete(row.engineName, deleteOptions).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
      await records.delete(id, deleteOptions.signal);
      bus.emit(id);
    },

    async outputs(caller, id, link, outputOptions = {}) {
      const row = await visible(caller, id, outputOptions.signal);
      if (row.phase !== 'Succeeded' || !row.outputs) throw new ConflictError(`run "${id}" has no outputs: it is ${row.phase}${row.message ? ` (${row.message})` : ''}`);
      return linkedOutputs(row, row.outputs, link, outputOptions.signal);
    },

    async stepOutputs(caller, id, step, link, outputOptions = {}) {
      const row = await visible(caller, id, outputOptions.signal);
      const steps = await records.steps(id, outputOptions.signal);
      const state = steps.find((s) => s.step === step);
      if (!state) throw new NotFoundError(`run "${id}" has no step "${step}"`);
      if (state.phase !== 'Succeeded') throw new ConflictError(`step "${step}" of run "${id}" has no outputs: it is ${state.phase}${state.message ? ` (${state.message})` : ''}`);
      // A step inside a subworkflow step has outputs per item of the outer step: one item is one answer.
      const segments = step.split('/');
      for (let i = 1; i < segments.length; i++) {
        const outer = steps.find((s) => s.step === segments.slice(0, i).join('/'));
        if (outer && outer.items.total > 1) throw new ConflictError(`step "${step}" runs once per item of the scattered step "${outer.step}": read the outputs of "${outer.step}"`);
      }
      const key = `${row.scope}/${segments.join('/0/')}/outputs.json`;
      let outputs: Record<string, unknown>;
      try {
        outputs = await readJson<Record<string, unknown>>(store, key);
      } catch (error) {
        if (error instanceof NotFoundError) throw new ConflictError(`step "${step}" of run "${id}" has no recorded outputs`);
        throw error;
      }
      return linkedOutputs(row, outputs, link, outputOptions.signal);
    },

    async openObject(caller, id, objectPath, objectOptions = {}) {
      const row = await visible(caller, id, objectOptions.signal);
      const key = validateObjectKey(`${row.scope}/${objectPath}`);
      try {
        return await store.get(key, objectOptions);
      } catch (error) {
        if (error instanceof NotFoundError) throw new NotFoundError(`run "${id}" has no file "${objectPath}"`);
        throw error;
      }
    },
  };
}

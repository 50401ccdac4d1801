import type { SqlDatabase, SqlExecutor } from '../../core/index.ts';
import type { RunPhase } from '../../core/index.ts';
import type { StepState } from './step-states.ts';

/** A run as the run service keeps it (migration 0008). */
/** Where a step placed on another cluster runs, and why. */
export interface StepPlacement {
  cluster: string;
  reasons: string[];
  /** Pinned (by the request, the document or its service): it is never placed elsewhere. */
  pinned?: boolean;
  /** Clusters the request or the document said never to run it on. */
  avoid?: string[];
  /** Clusters lost while they ran the step, in order: it was placed again after each. */
  lost?: string[];
}

export interface RunRow {
  id: string;
  project: string;
  ownerId: string;
  owner: string;
  name: string;
  labels: Record<string, string>;
  phase: RunPhase;
  message?: string;
  documentKey: string;
  documentSha256: string;
  processClass: string;
  job: Record<string, unknown>;
  scope: string;
  manifest: Record<string, unknown>;
  engineName?: string;
  attempt: number;
  outputs?: Record<string, unknown>;
  outputTarget?: OutputTarget;
  outputLocation?: Record<string, unknown>;
  /** Per step placed on another cluster: the cluster and why (none: every step runs here). */
  placement?: Record<string, StepPlacement>;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
}

/** A storage catalog entry and a prefix under it, where a run's output files are to be written. */
export interface OutputTarget {
  entry: string;
  /** The cluster whose storage entry it is (this one when absent). */
  cluster?: string;
  prefix?: string;
}

/** Compute reserved on a peered cluster for a step of a run placed there. */
export interface RunReservation {
  step: string;
  cluster: string;
  reservationId: string;
}

/** An access grant a run holds for a data catalog entry its job reads. */
export interface RunGrant {
  grantId: string;
  entryId: string;
  /** The peered cluster that granted it (none: this cluster). */
  cluster?: string;
}

export interface RunEventRow {
  id: number;
  runId: string;
  type: 'run' | 'step' | 'log';
  data: Record<string, unknown>;
  at: Date;
}

export interface RunFilter {
  /** Projects the caller may see (undefined: every project, for administrators). */
  visibleProjects?: readonly string[];
  project?: string;
  phase?: RunPhase;
  labels?: Record<string, string>;
  limit: number;
  /** `createdAt|id` of the last run of the previous page. */
  after?: { createdAt: Date; id: string };
}

interface Row {
  id: string;
  project: string;
  owner_id: string;
  owner_name: string;
  name: string;
  labels: Record<string, string>;
  phase: RunPhase;
  message: string | null;
  document_key: string;
  document_sha256: string;
  process_class: string;
  job: Record<string, unknown>;
  scope: string;
  manifest: Record<string, unknown>;
  engine_name: string | null;
  attempt: number;
  outputs: Record<string, unknown> | null;
  output_target: OutputTarget | null;
  output_location: Record<string, unknown> | null;
  placement: Record<string, StepPlacement> | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const date = (v: Date | string | null) => (v === null ? undefined : new Date(v));

function toRun(r: Row): RunRow {
  return {
    id: r.id,
    project: r.project,
    ownerId: r.owner_id,
    owner: r.owner_name,
    name: r.name,
    labels: r.labels,
    phase: r.phase,
    ...(r.message !== null ? { message: r.message } : {}),
    documentKey: r.document_key,
    documentSha256: r.document_sha256,
    processClass: r.process_class,
    job: r.job,
    scope: r.scope,
    manifest: r.manifest,
    ...(r.engine_name !== null ? { engineName: r.engine_name } : {}),
    attempt: r.attempt,
    ...(r.outputs !== null ? { outputs: r.outputs } : {}),
    ...(r.output_target !== null ? { outputTarget: r.output_target } : {}),
    ...(r.output_location !== null ? { outputLocation: r.output_location } : {}),
    ...(r.placement !== null ? { placement: r.placement } : {}),
    createdAt: new Date(r.created_at),
    ...(r.started_at !== null ? { startedAt: date(r.started_at) } : {}),
    ...(r.finished_at !== null ? { finishedAt: date(r.finished_at) } : {}),
  };
}

const COLUMNS = `id, project, owner_id, owner_name, name, labels, phase, message, document_key, document_sha256, process_class, job, scope,
                 manifest, engine_name, attempt, outputs, output_target, output_location, placement, created_at, started_at, finished_at`;
// jsonb goes as text: the driver would turn arrays into SQL arrays.
const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/** The run service's tables: runs, their steps' states, and their events in order. */
export function createRunRecords(db: SqlDatabase) {
  const insertEvent = async (tx: SqlExecutor, runId: string, type: RunEventRow['type'], data: unknown, at: Date) => {
    const { rows } = await tx.query<{ id: string | number }>('INSERT INTO run_events (run_id, type, data, at) VALUES ($1, $2, $3::jsonb, $4) RETURNING id', [runId, type, json(data), at]);
    return Number(rows[0]!.id);
  };

  /** The steps of several runs in one query, by run id. */
  const stepsOf = async (ids: readonly string[], signal?: AbortSignal): Promise<Map<string, StepState[]>> => {
    const { rows } = await db.query<{ run_id: string; state: StepState }>(
      'SELECT run_id, state FROM run_steps WHERE run_id = ANY($1::text[]) ORDER BY run_id, position',
      [[...ids]],
      { signal },
    );
    const byRun = new Map<string, StepState[]>(ids.map((id) => [id, []]));
    for (const r of rows) byRun.get(r.run_id)!.push(r.state);
    return byRun;
  };

  return {
    stepsOf,

    async insert(
      run: RunRow,
      steps: StepState[],
      signal?: AbortSignal,
      inputs: { grants?: readonly RunGrant[]; files?: readonly string[]; reservations?: readonly RunReservation[] } = {},
    ): Promise<void> {
      const grants = inputs.grants ?? [];
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO runs (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12::jsonb, $13, $14::jsonb, $15, $16, $17::jsonb, $18::jsonb, $19::jsonb, $20::jsonb, $21, $22, $23)`,
          [run.id, run.project, run.ownerId, run.owner, run.name, json(run.labels), run.phase, run.message ?? null, run.documentKey, run.documentSha256, run.processClass, json(run.job), run.scope, json(run.manifest), run.engineName ?? null, run.attempt, json(run.outputs), json(run.outputTarget), json(run.outputLocation), json(run.placement), run.createdAt, run.startedAt ?? null, run.finishedAt ?? null],
        );
        for (const g of grants) await tx.query('INSERT INTO run_grants (run_id, grant_id, entry_id, cluster) VALUES ($1, $2, $3, $4)', [run.id, g.grantId, g.entryId, g.cluster ?? null]);
        for (const id of new Set(inputs.files ?? [])) await tx.query('INSERT INTO run_files (run_id, file_id) VALUES ($1, $2)', [run.id, id]);
        for (const r of inputs.reservations ?? []) {
          await tx.query('INSERT INTO run_reservations (run_id, step, cluster, reservation_id) VALUES ($1, $2, $3, $4)', [run.id, r.step, r.cluster, r.reservationId]);
        }
        for (const [position, step] of steps.entries()) {
          await tx.query('INSERT INTO run_steps (run_id, step, position, state) VALUES ($1, $2, $3, $4::jsonb)', [run.id, step.step, position, json(step)]);
        }
        await insertEvent(tx, run.id, 'run', { phase: run.phase }, run.createdAt);
      }, { signal });
    },

    async get(id: string, signal?: AbortSignal): Promise<RunRow | undefined> {
      const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM runs WHERE id = $1`, [id], { signal });
      return rows[0] ? toRun(rows[0]) : undefined;
    },

    async steps(id: string, signal?: AbortSignal): Promise<StepState[]> {
      return (await stepsOf([id], signal)).get(id) ?? [];
    },


    async list(filter: RunFilter, signal?: AbortSignal): Promise<RunRow[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.visibleProjects) add((n) => `project = ANY(${n}::text[])`, [...filter.visibleProjects]);
      if (filter.project !== undefined) add((n) => `project = ${n}`, filter.project);
      if (filter.phase !== undefined) add((n) => `phase = ${n}`, filter.phase);
      if (filter.labels && Object.keys(filter.labels).length) add((n) => `labels @> ${n}::jsonb`, json(filter.labels));
      if (filter.after) {
        params.push(filter.after.createdAt, filter.after.id);
        where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
      }
      params.push(filter.limit);
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
        params,
        { signal },
      );
      return rows.map(toRun);
    },

    async unfinished(signal?: AbortSignal): Promise<RunRow[]> {
      const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM runs WHERE phase IN ('Pending', 'Running') ORDER BY created_at`, [], { signal });
      return rows.map(toRun);
    },

    /** Writes a run's changed fields and steps, with one event per change, in one transaction; resolves with the new events. */
    async update(
      id: string,
      change: { run?: Partial<Pick<RunRow, 'phase' | 'message' | 'engineName' | 'attempt' | 'outputs' | 'outputLocation' | 'placement' | 'startedAt' | 'finishedAt'>>; steps?: StepState[]; events: { type: RunEventRow['type']; data: Record<string, unknown> }[] },
      at: Date,
    ): Promise<RunEventRow[]> {
      return db.transaction(async (tx) => {
        const run = change.run ?? {};
        if (Object.keys(run).length) {
          const sets: string[] = [];
          const params: unknown[] = [id];
          const set = (column: string, value: unknown, cast = '') => {
            params.push(value);
            sets.push(`${column} = $${params.length}${cast}`);
          };
          if ('phase' in run) set('phase', run.phase);
          if ('message' in run) set('message', run.message ?? null);
          if ('engineName' in run) set('engine_name', run.engineName ?? null);
          if ('placement' in run) set('placement', json(run.placement), '::jsonb');
          if ('attempt' in run) set('attempt', run.attempt);
          if ('outputs' in run) set('outputs', json(run.outputs), '::jsonb');
          if ('outputLocation' in run) set('output_location', json(run.outputLocation), '::jsonb');
          if ('startedAt' in run) set('started_at', run.startedAt ?? null);
          if ('finishedAt' in run) set('finished_at', run.finishedAt ?? null);
          await tx.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $1`, params);
        }
        for (const step of change.steps ?? []) {
          await tx.query(
            `UPDATE run_steps SET state = $3::jsonb WHERE run_id = $1 AND step = $2`,
            [id, step.step, json(step)],
          );
        }
        const events: RunEventRow[] = [];
        for (const e of change.events) events.push({ id: await insertEvent(tx, id, e.type, e.data, at), runId: id, type: e.type, data: e.data, at });
        return events;
      });
    },

    async events(id: string, afterId: number, limit: number, signal?: AbortSignal): Promise<RunEventRow[]> {
      const { rows } = await db.query<{ id: string | number; type: RunEventRow['type']; data: Record<string, unknown>; at: Date | string }>(
        'SELECT id, type, data, at FROM run_events WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3',
        [id, afterId, limit],
        { signal },
      );
      return rows.map((r) => ({ id: Number(r.id), runId: id, type: r.type, data: r.data, at: new Date(r.at) }));
    },

    /** The grants runs hold still: of one run, or (without `runId`) of every run that has ended. */
    async heldGrants(runId?: string, signal?: AbortSignal): Promise<(RunGrant & { runId: string; ownerId: string; owner: string })[]> {
      const { rows } = await db.query<{ run_id: string; grant_id: string; entry_id: string; cluster: string | null; owner_id: string; owner_name: string }>(
        `SELECT g.run_id, g.grant_id, g.entry_id, g.cluster, r.owner_id, r.owner_name FROM run_grants g JOIN runs r ON r.id = g.run_id
          WHERE g.released_at IS NULL AND ${runId !== undefined ? 'g.run_id = $1' : "r.phase IN ('Succeeded', 'Failed', 'Error')"}`,
        runId !== undefined ? [runId] : [],
        { signal },
      );
      return rows.map((r) => ({ runId: r.run_id, grantId: r.grant_id, entryId: r.entry_id, ...(r.cluster !== null ? { cluster: r.cluster } : {}), ownerId: r.owner_id, owner: r.owner_name }));
    },

    /** The reservations runs hold still: of one run, or (without `runId`) of every run that has ended. */
    async heldReservations(runId?: string, signal?: AbortSignal): Promise<(RunReservation & { runId: string; ownerId: string; owner: string })[]> {
      const { rows } = await db.query<{ run_id: string; step: string; cluster: string; reservation_id: string; owner_id: string; owner_name: string }>(
        `SELECT v.run_id, v.step, v.cluster, v.reservation_id, r.owner_id, r.owner_name FROM run_reservations v JOIN runs r ON r.id = v.run_id
          WHERE v.released_at IS NULL AND ${runId !== undefined ? 'v.run_id = $1' : "r.phase IN ('Succeeded', 'Failed', 'Error')"}`,
        runId !== undefined ? [runId] : [],
        { signal },
      );
      return rows.map((r) => ({ runId: r.run_id, step: r.step, cluster: r.cluster, reservationId: r.reservation_id, ownerId: r.owner_id, owner: r.owner_name }));
    },

    /** A reservation made for a run after it started (a step placed again). */
    async addReservation(runId: string, r: RunReservation): Promise<void> {
      await db.query('INSERT INTO run_reservations (run_id, step, cluster, reservation_id) VALUES ($1, $2, $3, $4)', [runId, r.step, r.cluster, r.reservationId]);
    },

    async reservationReleased(runId: string, reservationId: string, at: Date): Promise<void> {
      await db.query('UPDATE run_reservations SET released_at = $3 WHERE run_id = $1 AND reservation_id = $2', [runId, reservationId, at]);
    },

    /** The uploads a run reads. */
    async fileIds(runId: string, signal?: AbortSignal): Promise<string[]> {
      const { rows } = await db.query<{ file_id: string }>('SELECT file_id FROM run_files WHERE run_id = $1 ORDER BY file_id', [runId], { signal });
      return rows.map((r) => r.file_id);
    },

    /** The uploads a run reads that have been deleted since. */
    async deletedFiles(runId: string, signal?: AbortSignal): Promise<string[]> {
      const { rows } = await db.query<{ file_id: string }>(
        'SELECT f.file_id FROM run_files f LEFT JOIN uploaded_files u ON u.id = f.file_id WHERE f.run_id = $1 AND u.id IS NULL ORDER BY f.file_id',
        [runId],
        { signal },
      );
      return rows.map((r) => r.file_id);
    },

    async grantReleased(runId: string, grantId: string, at: Date): Promise<void> {
      await db.query('UPDATE run_grants SET released_at = $3 WHERE run_id = $1 AND grant_id = $2', [runId, grantId, at]);
    },

    /** Where the recorded `log` events of each pod end: `attempt/step/pod` → offset in its log. */
    async logEnds(id: string, signal?: AbortSignal): Promise<Map<string, number>> {
      const { rows } = await db.query<{ key: string; end: string | number }>(
        `SELECT (data->>'attempt') || '/' || (data->>'step') || '/' || (data->>'pod') AS key, max((data->>'end')::bigint) AS end
           FROM run_events WHERE run_id = $1 AND type = 'log' GROUP BY 1`,
        [id],
        { signal },
      );
      return new Map(rows.map((r) => [r.key, Number(r.end)]));
    },

    async delete(id: string, signal?: AbortSignal): Promise<void> {
      await db.query('DELETE FROM runs WHERE id = $1', [id], { signal });
    },
  };
}

export type RunRecords = ReturnType<typeof createRunRecords>;

import { describeError, type Logger, type SqlDatabase, type SqlExecutor } from '../../core/index.ts';
import type { NodeState, RunState, RunSummary } from '../../core/index.ts';

interface RunRow {
  name: string;
  phase: RunSummary['phase'];
  message: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const iso = (value: Date | string) => new Date(value).toISOString();

function toSummary(row: RunRow): RunSummary {
  return {
    name: row.name,
    phase: row.phase,
    ...(row.message !== null ? { message: row.message } : {}),
    createdAt: iso(row.created_at),
    ...(row.started_at !== null ? { startedAt: iso(row.started_at) } : {}),
    ...(row.finished_at !== null ? { finishedAt: iso(row.finished_at) } : {}),
  };
}

const RUN_COLUMNS = 'name, phase, message, created_at, started_at, finished_at';

/** The engine's tables (migration 0003): one row per run, one per node with its state as JSON. */
export function createRunStore(db: SqlDatabase) {
  const saveRun = (tx: SqlExecutor, run: RunSummary) =>
    tx.query('UPDATE engine_runs SET phase = $2, message = $3, started_at = $4, finished_at = $5 WHERE name = $1', [
      run.name,
      run.phase,
      run.message ?? null,
      run.startedAt ?? null,
      run.finishedAt ?? null,
    ]);
  const saveNodes = (tx: SqlExecutor, runName: string, nodes: NodeState[]) =>
    // One statement for the batch; jsonb goes as text (the driver would turn an array into a SQL array).
    tx.query(
      `INSERT INTO engine_nodes (run_name, node_id, state)
       SELECT $1, e ->> 'id', e FROM jsonb_array_elements($2::jsonb) AS e
       ON CONFLICT (run_name, node_id) DO UPDATE SET state = EXCLUDED.state`,
      [runName, JSON.stringify(nodes)],
    );

  return {
    /** Records a new run; a name already taken fails with a ConflictError (the adapter's translation). */
    async insertRun(run: RunSummary, manifest: unknown, signal?: AbortSignal): Promise<void> {
      await db.query(
        `INSERT INTO engine_runs (name, manifest, phase, message, created_at) VALUES ($1, $2::jsonb, $3, $4, $5)`,
        [run.name, JSON.stringify(manifest), run.phase, run.message ?? null, run.createdAt],
        { signal },
      );
    },

    /** Writes the run's row and the given nodes in one transaction. */
    async save(run: RunSummary, nodes: NodeState[]): Promise<void> {
      await db.transaction(async (tx) => {
        await saveRun(tx, run);
        if (nodes.length) await saveNodes(tx, run.name, nodes);
      });
    },

    async get(name: string, signal?: AbortSignal): Promise<RunState | undefined> {
      const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM engine_runs WHERE name = $1`, [name], { signal });
      if (!rows[0]) return undefined;
      const nodes = await db.query<{ state: NodeState }>('SELECT state FROM engine_nodes WHERE run_name = $1', [name], { signal });
      return { ...toSummary(rows[0]), nodes: Object.fromEntries(nodes.rows.map((r) => [r.state.id, r.state])) };
    },

    async list(signal?: AbortSignal): Promise<RunSummary[]> {
      const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM engine_runs ORDER BY created_at DESC, name`, [], { signal });
      return rows.map(toSummary);
    },

    /** The manifest a run was submitted with (its name and arguments filled in). */
    async manifest(name: string, signal?: AbortSignal): Promise<unknown> {
      const { rows } = await db.query<{ manifest: unknown }>('SELECT manifest FROM engine_runs WHERE name = $1', [name], { signal });
      return rows[0]?.manifest;
    },

    /** Removes a run's row and its nodes. */
    async delete(name: string, signal?: AbortSignal): Promise<void> {
      await db.query('DELETE FROM engine_runs WHERE name = $1', [name], { signal });
    },

    async unfinished(signal?: AbortSignal): Promise<string[]> {
      const { rows } = await db.query<{ name: string }>(`SELECT name FROM engine_runs WHERE phase IN ('Pending', 'Running') ORDER BY created_at`, [], { signal });
      return rows.map((r) => r.name);
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

/**
 * Writes a run's changes in order, coalescing bursts: changes made while a write is in flight go out
 * together in the next one, each node with its latest state. A failed write is logged and the changes
 * stay pending for the next one.
 */
export function createRunWriter(store: RunStore, run: () => RunSummary, logger: Logger) {
  const dirty = new Map<string, NodeState>();
  let runDirty = false;
  let writing: Promise<void> | undefined;

  const loop = async () => {
    while (runDirty || dirty.size) {
      const pending = [...dirty.values()];
      const nodes = pending.map((n) => structuredClone(n));
      dirty.clear();
      runDirty = false;
      try {
        await store.save(run(), nodes);
      } catch (error) {
        logger.error('cannot record the run state', { run: run().name, error: describeError(error) });
        for (const node of pending) dirty.set(node.id, node);
        runDirty = true;
        return; // the next change tries again
      }
    }
  };
  const schedule = () => {
    writing ??= loop().finally(() => {
      writing = undefined;
    });
  };

  return {
    runChanged() {
      runDirty = true;
      schedule();
    },
    nodeChanged(node: NodeState) {
      dirty.set(node.id, node);
      schedule();
    },
    /** Resolves once everything changed so far is written (or failed to be). */
    async flush() {
      while (writing) await writing;
    },
  };
}

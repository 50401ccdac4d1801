import type { SqlDatabase } from '../../core/index.ts';

/** A pod this cluster runs for a peered cluster's run. */
export interface PeerExecution {
  engineName: string;
  originCluster: string;
  originRun: string;
  user: string;
  project: string;
  reservationId: string;
  /** The CWL step of the origin's run. */
  step?: string;
  createdAt: Date;
}

interface Row {
  engine_name: string;
  origin_cluster: string;
  origin_run: string;
  user_name: string;
  project: string;
  reservation_id: string;
  step: string | null;
  created_at: Date | string;
}

/** The record of the pods run here for peers (table `peer_executions`), newest first. */
export function createPeerExecutions(db: SqlDatabase) {
  return {
    async add(e: PeerExecution): Promise<void> {
      await db.query(
        `INSERT INTO peer_executions (engine_name, origin_cluster, origin_run, user_name, project, reservation_id, step, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (engine_name) DO NOTHING`,
        [e.engineName, e.originCluster, e.originRun, e.user, e.project, e.reservationId, e.step ?? null, e.createdAt],
      );
    },

    /** The engine names of every pod recorded for a cluster (whatever their phase). */
    async engineNames(originCluster: string, signal?: AbortSignal): Promise<string[]> {
      const { rows } = await db.query<{ engine_name: string }>('SELECT engine_name FROM peer_executions WHERE origin_cluster = $1 ORDER BY created_at DESC, engine_name', [originCluster], { signal });
      return rows.map((r) => r.engine_name);
    },

    async list(options: { originCluster?: string; limit: number; signal?: AbortSignal }): Promise<PeerExecution[]> {
      const { rows } = await db.query<Row>(
        `SELECT * FROM peer_executions ${options.originCluster !== undefined ? 'WHERE origin_cluster = $2' : ''} ORDER BY created_at DESC, engine_name LIMIT $1`,
        options.originCluster !== undefined ? [options.limit, options.originCluster] : [options.limit],
        { signal: options.signal },
      );
      return rows.map((r) => ({
        engineName: r.engine_name,
        originCluster: r.origin_cluster,
        originRun: r.origin_run,
        user: r.user_name,
        project: r.project,
        reservationId: r.reservation_id,
        ...(r.step !== null ? { step: r.step } : {}),
        createdAt: new Date(r.created_at),
      }));
    },
  };
}

export type PeerExecutions = ReturnType<typeof createPeerExecutions>;

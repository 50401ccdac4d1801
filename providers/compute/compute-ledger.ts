import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  InvalidInputError,
  NotAllowedError,
  NotFoundError,
  isArchipelError,
  silentLogger,
  systemClock,
  type Clock,
  type InputIssue,
  type Logger,
  type Principal,
  type SqlDatabase,
  type SqlExecutor,
} from '../../core/index.ts';
import type { CapacitySource } from './capacity-source.ts';
import {
  RESOURCE_NAMES,
  describeAmount,
  fieldOf,
  fromUnits,
  parseResources,
  resourceIssues,
  toUnits,
  type ComputeResources,
  type ResourceName,
  type ResourceUnits,
} from './compute-resources.ts';
import { peakUsage, type Holding } from './peak-usage.ts';

/** The requester of this cluster's own users. Peers are named by their cluster id. */
export const LOCAL_REQUESTER = 'local';

/** A libp2p peer id in base58btc, as discovery names clusters. */
export const CLUSTER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/;

/** Who acts on the ledger: a user of this cluster (through the API) or a peered cluster (through the protocol). */
export type ComputeActor =
  | { kind: 'user'; principal: Principal }
  /**
   * A peered cluster, acting for one of its users when `userName` is given: the reservation records that
   * user, and only reservations of that user (of that cluster) are visible to it.
   */
  | { kind: 'peer'; clusterId: string; userName?: string };

/** The most any one peer may hold at once; a resource left out is not limited beyond the capacity. */
export type ComputeQuota = Partial<ComputeResources>;

export interface ComputeLimits {
  /** The longest window one reservation may cover (default 7 days). */
  maxDurationMs: number;
  /** How far ahead of now a window may start (default 30 days). */
  maxLeadMs: number;
}

export interface ComputeLedgerOptions {
  db: SqlDatabase;
  capacity: CapacitySource;
  /** The ledger's provider id (default `local`): one ledger per compute provider. */
  providerId?: string;
  /**
   * The quota of each peer cluster: one quota for all of them, or one per cluster id (undefined: no
   * quota). This cluster's own users (`local`) are limited by the capacity only.
   */
  peerQuota?: ComputeQuota | ((clusterId: string) => ComputeQuota | undefined);
  /**
   * What this cluster offers a peer cluster (the compute catalog entries it may see): the most that peer
   * may hold at once, on top of its quota (a resource left out is not limited by it); `null`: nothing, and
   * its reservations are refused. Without it, peers are limited by the capacity and their quota only.
   */
  peerOffer?(clusterId: string, options: { signal?: AbortSignal }): Promise<ComputeQuota | null>;
  limits?: Partial<ComputeLimits>;
  clock?: Clock;
  logger?: Logger;
}

export interface ReservationRequest extends Partial<ComputeResources> {
  /** When the window opens (default now; a time in the past counts as now). */
  start?: Date;
  /** When it closes; give `end` or `durationSeconds`, not both. */
  end?: Date;
  durationSeconds?: number;
  /**
   * Who the reservation is for: `local` (the default for users) or a peer's cluster id (cluster admins
   * only; a peer acting for itself is always its own requester).
   */
  requester?: string;
}

export type ReservationState = 'scheduled' | 'active' | 'expired' | 'released';

export interface ComputeReservation extends ComputeResources {
  id: string;
  providerId: string;
  requester: string;
  /** The user who made it: a local user, or the peer's user it acted for (null if the peer named none). */
  userName: string | null;
  start: Date;
  end: Date;
  createdAt: Date;
  releasedAt: Date | null;
  /** At the time of reading: before the window, in it, after it, or released early. */
  state: ReservationState;
}

export interface ComputeStatus {
  providerId: string;
  /** The capacity; for a peer, the most it may hold (its quota and what is offered to it, within the capacity). */
  capacity: ComputeResources;
  /** Held now by unreleased reservations whose window contains now (for a peer: its own). */
  inUse: ComputeResources;
  /**
   * Capacity minus what is in use now (never negative, even if the capacity shrank); for a peer, no more
   * than what is free of the whole capacity either.
   */
  free: ComputeResources;
  /** The quota every peer gets, when it is the same for all (for a peer: its own quota). */
  peerQuota: ComputeQuota | null;
  at: Date;
}

export interface ListReservationsOptions {
  /** `current` (default): scheduled and active; `all`: also expired and released. */
  state?: 'current' | 'all';
  /** Only this requester's reservations. */
  requester?: string;
  /** At most this many, earliest start first (default and maximum 1000). */
  limit?: number;
  signal?: AbortSignal;
}

export interface ComputeLedger {
  /**
   * The capacity, and what is in use and free now; with `requester` a peer cluster id, as that peer sees
   * it: what it may hold, what it holds and what it could still reserve now.
   */
  status(options?: { requester?: string; signal?: AbortSignal }): Promise<ComputeStatus>;
  /**
   * Reserves resources for a window, or throws `ConflictError` naming each resource that is not free
   * for the whole window (or over the requester's quota). Never promises more than the capacity at any
   * instant, whatever the number of concurrent callers.
   */
  reserve(actor: ComputeActor, request: ReservationRequest, options?: { signal?: AbortSignal }): Promise<ComputeReservation>;
  /** A reservation the actor may see (its own; all of them for cluster admins), else `NotFoundError`. */
  get(actor: ComputeActor, id: string, options?: { signal?: AbortSignal }): Promise<ComputeReservation>;
  list(actor: ComputeActor, options?: ListReservationsOptions): Promise<ComputeReservation[]>;
  /**
   * Gives the resources back before the window ends. Releasing a released or expired reservation changes
   * nothing. Only its holder or a cluster admin may release it; others get `NotFoundError`.
   */
  release(actor: ComputeActor, id: string, options?: { signal?: AbortSignal }): Promise<ComputeReservation>;
  /**
   * Releases every current (scheduled or active) reservation of a peer cluster at once, whoever of its
   * users made them: its peering with this cluster ended, and what it held ends with it. `by` is recorded
   * as who released them. Returns how many were released; doing it again releases nothing more.
   */
  releaseRequester(clusterId: string, options?: { by?: string; signal?: AbortSignal }): Promise<number>;
}

const DEFAULT_LIMITS: ComputeLimits = { maxDurationMs: 7 * 24 * 3600 * 1000, maxLeadMs: 30 * 24 * 3600 * 1000 };
const MAX_LIST = 1000;
const RETRIES = 3;

interface ReservationRow {
  id: string;
  provider_id: string;
  requester: string;
  user_name: string | null;
  millicores: number;
  memory_mib: number;
  gpus: number;
  starts_at: Date;
  ends_at: Date;
  created_at: Date;
  released_at: Date | null;
}
const COLUMNS =
  'id, provider_id, requester, user_name, millicores, memory_mib, gpus, starts_at, ends_at, created_at, released_at';

const unitsOf = (row: { millicores: number; memory_mib: number; gpus: number }): ResourceUnits => ({
  millicores: row.millicores,
  memoryMiB: row.memory_mib,
  gpus: row.gpus,
});

function describeDuration(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 48 && Number.isInteger(hours / 24) ? `${hours / 24} days` : `${hours} hours`;
}

function invalid(issues: InputIssue[]): InvalidInputError {
  return new InvalidInputError(`invalid reservation: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

/**
 * The reservation ledger of one compute provider, kept in SQL. `reserve` locks the provider's row, sums
 * the unreleased reservations overlapping the requested window at each of its breakpoints, and inserts
 * the new one only if every resource stays within the capacity (and the requester within its quota) at
 * every instant; the lock makes concurrent requests for the same provider take turns, on PostgreSQL and
 * PGlite alike. Expired reservations (their end has passed, by the injected clock) never count.
 */
export function createComputeLedger(options: ComputeLedgerOptions): ComputeLedger {
  const { db, capacity: source } = options;
  const providerId = options.providerId ?? LOCAL_REQUESTER;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const limits: ComputeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const fixedQuota = typeof options.peerQuota === 'object' ? { ...options.peerQuota } : null;
  if (fixedQuota) parseResources(fixedQuota, 'peer quota');
  const quotaFor = (requester: string): ComputeQuota | undefined => {
    if (requester === LOCAL_REQUESTER || options.peerQuota === undefined) return undefined;
    return typeof options.peerQuota === 'function' ? options.peerQuota(requester) : options.peerQuota;
  };

  /**
   * What a requester may hold at once beyond the capacity: nothing for this cluster's own users; for a
   * peer, the smaller of its quota and what is offered to it, per resource (`offered` false: nothing is).
   */
  async function peerLimit(requester: string, signal: AbortSignal | undefined): Promise<{ limit?: Partial<ResourceUnits>; offered: boolean }> {
    if (requester === LOCAL_REQUESTER) return { offered: true };
    const rawQuota = quotaFor(requester);
    const quota = rawQuota ? quotaUnits(rawQuota) : undefined;
    if (!options.peerOffer) return { ...(quota ? { limit: quota } : {}), offered: true };
    const offer = await options.peerOffer(requester, { signal });
    if (offer === null) return { limit: { millicores: 0, memoryMiB: 0, gpus: 0 }, offered: false };
    const offered = quotaUnits(offer);
    const limit: Partial<ResourceUnits> = {};
    for (const resource of RESOURCE_NAMES) {
      const bounds = [quota?.[resource], offered[resource]].filter((v): v is number => v !== undefined);
      if (bounds.length) limit[resource] = Math.min(...bounds);
    }
    return { ...(RESOURCE_NAMES.some((r) => limit[r] !== undefined) ? { limit } : {}), offered: true };
  }

  const stateOf = (row: ReservationRow, now: Date): ReservationState => {
    if (row.released_at) return 'released';
    if (row.ends_at.getTime() <= now.getTime()) return 'expired';
    return row.starts_at.getTime() > now.getTime() ? 'scheduled' : 'active';
  };
  const toReservation = (row: ReservationRow, now = clock.now()): ComputeReservation => ({
    id: row.id,
    providerId: row.provider_id,
    requester: row.requester,
    userName: row.user_name,
    ...fromUnits(unitsOf(row)),
    start: row.starts_at,
    end: row.ends_at,
    createdAt: row.created_at,
    releasedAt: row.released_at,
    state: stateOf(row, now),
  });

  /** A SQL condition (on `$n`) selecting what the actor may see, and its parameter. */
  const visibleTo = (actor: ComputeActor, n: number): { sql: string; params: unknown[] } => {
    if (actor.kind === 'peer') {
      if (actor.userName === undefined) return { sql: `requester = $${n}`, params: [actor.clusterId] };
      return { sql: `requester = $${n} AND user_id IS NULL AND user_name = $${n + 1}`, params: [actor.clusterId, actor.userName] };
    }
    if (actor.principal.isAdmin) return { sql: 'TRUE', params: [] };
    return { sql: `user_id = $${n}`, params: [actor.principal.userId] };
  };

  async function capacityUnits(signal: AbortSignal | undefined): Promise<ResourceUnits> {
    const capacity = await source.capacity({ signal });
    return parseResources(capacity, 'capacity from the capacity source');
  }

  /** Checks who may reserve for whom; returns the requester. */
  function requesterFor(actor: ComputeActor, requested: string | undefined): string {
    if (actor.kind === 'peer') {
      if (requested !== undefined && requested !== actor.clusterId) {
        throw new NotAllowedError('a peer cluster may only reserve for itself');
      }
      return actor.clusterId;
    }
    const requester = requested ?? LOCAL_REQUESTER;
    if (requester !== LOCAL_REQUESTER && !actor.principal.isAdmin) {
      throw new NotAllowedError('only cluster administrators may reserve for another cluster');
    }
    return requester;
  }

  /** Validates the request against the clock and the limits; every problem at once. */
  function parseRequest(request: ReservationRequest, now: Date) {
    const issues = resourceIssues(request);
    const units = toUnits({ cores: request.cores ?? 0, memoryMiB: request.memoryMiB ?? 0, gpus: request.gpus ?? 0 });
    if (!issues.length && RESOURCE_NAMES.every((r) => units[r] === 0)) {
      issues.push({ path: 'cores', message: 'a reservation must hold some cores, memory or GPUs' });
    }
    if (request.requester !== undefined && request.requester !== LOCAL_REQUESTER && !CLUSTER_ID_PATTERN.test(request.requester)) {
      issues.push({ path: 'requester', message: 'must be "local" or a cluster id (a base58 libp2p peer id)' });
    }
    const validDate = (value: Date | undefined, path: string) => {
      if (value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime()))) {
        issues.push({ path, message: 'must be a valid time' });
        return false;
      }
      return true;
    };
    const startOk = validDate(request.start, 'start');
    const endOk = validDate(request.end, 'end');
    const start = Math.max(startOk && request.start ? request.start.getTime() : now.getTime(), now.getTime());
    let end: number | undefined;
    let endPath = 'end';
    if (request.end !== undefined && request.durationSeconds !== undefined) {
      issues.push({ path: 'durationSeconds', message: 'give either end or durationSeconds, not both' });
    } else if (request.durationSeconds !== undefined) {
      endPath = 'durationSeconds';
      if (typeof request.durationSeconds !== 'number' || !Number.isFinite(request.durationSeconds) || request.durationSeconds <= 0) {
        issues.push({ path: endPath, message: 'must be a positive number of seconds' });
      } else end = start + Math.round(request.durationSeconds * 1000);
    } else if (request.end === undefined) {
      issues.push({ path: 'end', message: 'give the end of the window (end) or its length (durationSeconds)' });
    } else if (endOk) {
      end = request.end.getTime();
      if (end <= now.getTime()) issues.push({ path: 'end', message: 'must be in the future' });
      else if (request.start !== undefined && startOk && end <= request.start.getTime()) {
        issues.push({ path: 'end', message: 'must be after start' });
      }
    }
    if (start - now.getTime() > limits.maxLeadMs) {
      issues.push({ path: 'start', message: `must be at most ${describeDuration(limits.maxLeadMs)} from now` });
    }
    if (end !== undefined && end - start > limits.maxDurationMs) {
      issues.push({ path: endPath, message: `window too long: at most ${describeDuration(limits.maxDurationMs)}` });
    }
    if (issues.length || end === undefined) throw invalid(issues);
    return { units, start, end };
  }

  /** The resources that would go over `limit` at some instant, as messages and details. */
  function shortfalls(request: ResourceUnits, peak: ResourceUnits, limit: Partial<ResourceUnits>) {
    const short: { resource: ResourceName; requested: number; free: number; limit: number }[] = [];
    for (const resource of RESOURCE_NAMES) {
      const max = limit[resource];
      if (max === undefined || request[resource] === 0) continue;
      const free = Math.max(0, max - peak[resource]);
      if (request[resource] > free) short.push({ resource, requested: request[resource], free, limit: max });
    }
    return short;
  }

  async function reserveOnce(
    tx: SqlExecutor,
    actor: ComputeActor,
    requester: string,
    request: ReturnType<typeof parseRequest>,
    capacity: ResourceUnits,
    quota: Partial<ResourceUnits> | undefined,
  ): Promise<ComputeReservation> {
    // One reservation of this provider at a time: the row lock is held until commit, and each statement
    // after it (READ COMMITTED) sees every reservation committed by the transactions that held it before.
    await tx.query('INSERT INTO compute_providers (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [providerId]);
    await tx.query('SELECT id FROM compute_providers WHERE id = $1 FOR UPDATE', [providerId]);

    const { rows } = await tx.query<ReservationRow>(
      `SELECT ${COLUMNS} FROM compute_reservations
        WHERE provider_id = $1 AND released_at IS NULL AND ends_at > $2 AND starts_at < $3`,
      [providerId, new Date(request.start), new Date(request.end)],
    );
    const holdings = rows.map(
      (row): Holding & { requester: string } => ({ ...unitsOf(row), start: row.starts_at.getTime(), end: row.ends_at.getTime(), requester: row.requester }),
    );
    const window = `${new Date(request.start).toISOString()} to ${new Date(request.end).toISOString()}`;

    const overCapacity = shortfalls(request.units, peakUsage(holdings, request.start, request.end), capacity);
    if (overCapacity.length) {
      throw new ConflictError(
        `not enough capacity: ${overCapacity
          .map((s) => `${describeAmount(s.resource, s.requested)} requested, ${describeAmount(s.resource, s.free)} free in that window`)
          .join('; ')} (${window})`,
        {
          details: {
            reason: 'capacity',
            shortfalls: overCapacity.map((s) => ({
              resource: fieldOf(s.resource),
              ...fromResource(s.resource, s),
            })),
          },
        },
      );
    }
    if (quota) {
      const own = holdings.filter((h) => h.requester === requester);
      const overQuota = shortfalls(request.units, peakUsage(own, request.start, request.end), quota);
      if (overQuota.length) {
        throw new ConflictError(
          `over the quota of cluster ${requester}: ${overQuota
            .map((s) => `${describeAmount(s.resource, s.requested)} requested, ${describeAmount(s.resource, s.free)} left of its quota of ${describeAmount(s.resource, s.limit)} in that window`)
            .join('; ')} (${window})`,
          {
            details: {
              reason: 'quota',
              requester,
              shortfalls: overQuota.map((s) => ({
                resource: fieldOf(s.resource),
                ...fromResource(s.resource, s),
              })),
            },
          },
        );
      }
    }

    const user = actor.kind === 'user' ? actor.principal : null;
    const now = clock.now();
    const inserted = await tx.query<ReservationRow>(
      `INSERT INTO compute_reservations
         (id, provider_id, requester, user_id, user_name, millicores, memory_mib, gpus, starts_at, ends_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        providerId,
        requester,
        user?.userId ?? null,
        user?.userName ?? (actor.kind === 'peer' ? (actor.userName ?? null) : null),
        request.units.millicores,
        request.units.memoryMiB,
        request.units.gpus,
        new Date(request.start),
        new Date(request.end),
        now,
      ],
    );
    return toReservation(inserted.rows[0]!, now);
  }

  async function get(actor: ComputeActor, id: string, getOptions?: { signal?: AbortSignal }): Promise<ComputeReservation> {
    const visible = visibleTo(actor, 3);
    const { rows } = await db.query<ReservationRow>(
      `SELECT ${COLUMNS} FROM compute_reservations WHERE provider_id = $1 AND id = $2 AND ${visible.sql}`,
      [providerId, id, ...visible.params],
      { signal: getOptions?.signal },
    );
    if (!rows[0]) throw new NotFoundError(`reservation "${id}" not found`);
    return toReservation(rows[0]);
  }

  return {
    async status(statusOptions = {}) {
      const { signal, requester } = statusOptions;
      const capacity = await capacityUnits(signal);
      const now = clock.now();
      const peer = requester !== undefined && requester !== LOCAL_REQUESTER ? requester : undefined;
      const inUseBy = async (who: string | undefined): Promise<ResourceUnits> => {
        const { rows } = await db.query<{ millicores: string; memory_mib: string; gpus: string }>(
          `SELECT coalesce(sum(millicores), 0) AS millicores, coalesce(sum(memory_mib), 0) AS memory_mib,
                  coalesce(sum(gpus), 0) AS gpus
             FROM compute_reservations
            WHERE provider_id = $1 AND released_at IS NULL AND starts_at <= $2 AND ends_at > $2${who === undefined ? '' : ' AND requester = $3'}`,
          who === undefined ? [providerId, now] : [providerId, now, who],
          { signal },
        );
        const row = rows[0]!;
        return { millicores: Number(row.millicores), memoryMiB: Number(row.memory_mib), gpus: Number(row.gpus) };
      };
      const inUse = await inUseBy(undefined);
      const free = {} as ResourceUnits;
      for (const r of RESOURCE_NAMES) free[r] = Math.max(0, capacity[r] - inUse[r]);
      if (peer === undefined) {
        return { providerId, capacity: fromUnits(capacity), inUse: fromUnits(inUse), free: fromUnits(free), peerQuota: fixedQuota, at: now };
      }
      // As the peer sees it: its bound within the capacity, its own holdings, what it could still reserve.
      const { limit } = await peerLimit(peer, signal);
      const held = await inUseBy(peer);
      const bound = {} as ResourceUnits;
      const left = {} as ResourceUnits;
      for (const r of RESOURCE_NAMES) {
        bound[r] = Math.min(capacity[r], limit?.[r] ?? Infinity);
        left[r] = Math.min(free[r], Math.max(0, bound[r] - held[r]));
      }
      const quota = quotaFor(peer);
      return { providerId, capacity: fromUnits(bound), inUse: fromUnits(held), free: fromUnits(left), peerQuota: quota ? { ...quota } : null, at: now };
    },

    async reserve(actor, request, reserveOptions) {
      const signal = reserveOptions?.signal;
      const parsed = parseRequest(request, clock.now());
      const requester = requesterFor(actor, request.requester);
      // Read before the transaction: a capacity source may be remote, and the lock must be held briefly.
      const capacity = await capacityUnits(signal);
      const { limit: quota, offered } = await peerLimit(requester, signal);
      if (!offered) throw new NotAllowedError(`this cluster offers no compute to cluster ${requester} (no compute catalog entry it may see)`);
      for (let attempt = 1; ; attempt++) {
        try {
          const reservation = await db.transaction((tx) => reserveOnce(tx, actor, requester, parsed, capacity, quota), { signal });
          logger.info('compute reserved', {
            reservation: reservation.id,
            requester,
            cores: reservation.cores,
            memoryMiB: reservation.memoryMiB,
            gpus: reservation.gpus,
          });
          return reservation;
        } catch (error) {
          // A lost race the database reports (serialization failure, deadlock) may pass on a new attempt.
          if (attempt < RETRIES && isArchipelError(error) && error.kind === 'conflict' && error.retryable) continue;
          throw error;
        }
      }
    },

    get,

    async list(actor, listOptions = {}) {
      const now = clock.now();
      const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? MAX_LIST)), MAX_LIST);
      const visible = visibleTo(actor, 3);
      const conditions = ['provider_id = $1', visible.sql];
      const params: unknown[] = [providerId, limit, ...visible.params];
      if ((listOptions.state ?? 'current') === 'current') {
        params.push(now);
        conditions.push(`released_at IS NULL AND ends_at > $${params.length}`);
      }
      if (listOptions.requester !== undefined) {
        params.push(listOptions.requester);
        conditions.push(`requester = $${params.length}`);
      }
      const { rows } = await db.query<ReservationRow>(
        `SELECT ${COLUMNS} FROM compute_reservations WHERE ${conditions.join(' AND ')}
          ORDER BY starts_at, created_at, id LIMIT $2`,
        params,
        { signal: listOptions.signal },
      );
      return rows.map((row) => toReservation(row, now));
    },

    async release(actor, id, releaseOptions) {
      const signal = releaseOptions?.signal;
      const now = clock.now();
      const visible = visibleTo(actor, 5);
      const by = actor.kind === 'peer' ? `cluster:${actor.clusterId}` : `user:${actor.principal.userName}`;
      // Giving resources back cannot over-commit anything: no provider lock needed.
      const { rows } = await db.query<ReservationRow>(
        `UPDATE compute_reservations SET released_at = $3, released_by = $4
          WHERE provider_id = $1 AND id = $2 AND ${visible.sql} AND released_at IS NULL AND ends_at > $3
          RETURNING ${COLUMNS}`,
        [providerId, id, now, by, ...visible.params],
        { signal },
      );
      if (rows[0]) {
        logger.info('compute released', { reservation: id, requester: rows[0].requester, by });
        return toReservation(rows[0], now);
      }
      return get(actor, id, { signal }); // already released or expired (or not visible: not found)
    },

    async releaseRequester(clusterId, releaseOptions = {}) {
      if (clusterId === LOCAL_REQUESTER || !CLUSTER_ID_PATTERN.test(clusterId)) {
        throw invalid([{ path: 'requester', message: 'must be a peer cluster id' }]);
      }
      const now = clock.now();
      const by = releaseOptions.by ?? 'peering-ended';
      const { rows } = await db.query<{ id: string }>(
        `UPDATE compute_reservations SET released_at = $3, released_by = $4
          WHERE provider_id = $1 AND requester = $2 AND released_at IS NULL AND ends_at > $3
          RETURNING id`,
        [providerId, clusterId, now, by],
        { signal: releaseOptions.signal },
      );
      if (rows.length) logger.info('compute released for a cluster', { requester: clusterId, reservations: rows.map((r) => r.id), by });
      return rows.length;
    },
  };
}

function quotaUnits(quota: ComputeQuota): Partial<ResourceUnits> {
  const units = parseResources(quota, 'peer quota');
  return {
    ...(quota.cores !== undefined && { millicores: units.millicores }),
    ...(quota.memoryMiB !== undefined && { memoryMiB: units.memoryMiB }),
    ...(quota.gpus !== undefined && { gpus: units.gpus }),
  };
}

/** A shortfall in the caller's units (cores rather than millicores). */
function fromResource(resource: ResourceName, s: { requested: number; free: number; limit: number }) {
  const scale = resource === 'millicores' ? 1000 : 1;
  return { requested: s.requested / scale, free: s.free / scale, limit: s.limit / scale };
}


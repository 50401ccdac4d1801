import { randomUUID } from 'node:crypto';
import {
  InvalidInputError,
  NotAllowedError,
  NotFoundError,
  NotImplementedError,
  describeError,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type Principal,
  type SqlDatabase,
  type Startable,
} from '../../core/index.ts';
import type { GrantAccess, GrantProvider, Grantee } from './grant-provider.ts';
import { GrantTargetSchema, targetType, type GrantKind, type GrantTarget, type GrantTargetType } from './grant-target.ts';

/** A cluster id (libp2p peer id, base58btc) or `local`. */
const GRANTEE_CLUSTER = /^(local|[1-9A-HJ-NP-Za-km-z]{1,128})$/;
const GRANTEE_USER = /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/;
const MAX_LIST = 1000;

export interface GrantServiceOptions {
  db: SqlDatabase;
  /** The provider for each kind of target this cluster can grant; a missing one answers "not implemented". */
  providers: Partial<Record<GrantTargetType, GrantProvider>>;
  /** The longest grant (default 7 days, the longest a pre-signed S3 URL may live). */
  maxTtlSeconds?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface GrantRequest {
  target: GrantTarget;
  grantee: Grantee;
  ttlSeconds: number;
  /** Storage grants on S3: the object names to presign PUT URLs for. */
  uploads?: readonly string[];
  /** The catalog entry the grant gives access to, when it is granted for one. */
  entryId?: string;
}

export type GrantState = 'active' | 'expired' | 'revoked';

export interface AccessGrant {
  id: string;
  kind: GrantKind;
  targetType: GrantTargetType;
  target: GrantTarget;
  grantee: Grantee;
  /** The catalog entry it gives access to; null for a grant an administrator made for a target. */
  entryId: string | null;
  /** Who asked: a local user, or `user@cluster` for a peer's user. */
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  /** At the time of reading. An expired grant is `expired` until the sweep revokes it. */
  state: GrantState;
}

/**
 * `start` makes again what open grants hold that does not outlive the node (a data grant's bind mount);
 * `stop` lets go of it, so that a stopped node leaves no mount behind. Grants are made and revoked whether
 * it was started or not.
 */
export interface GrantService extends Startable {
  /** Makes the grant and records it; the access (credentials, URLs) is returned once and never stored. */
  grant(actor: Principal, request: GrantRequest, options?: { signal?: AbortSignal }): Promise<{ grant: AccessGrant; access: GrantAccess }>;
  /**
   * The same without the administrator check, for a caller that has decided the grantee may have it (the
   * catalog's visibility check for an entry); `createdBy` names who asked.
   */
  issue(request: GrantRequest, options: { createdBy: string; signal?: AbortSignal }): Promise<{ grant: AccessGrant; access: GrantAccess }>;
  /** A grant: any for an administrator; for another user, only one made for them (else "not found"). */
  get(actor: Principal, id: string, options?: { signal?: AbortSignal }): Promise<AccessGrant>;
  /** Grants, newest first: all of them for an administrator, a user's own for a user. */
  list(actor: Principal, options?: { state?: 'open' | 'all'; limit?: number; signal?: AbortSignal }): Promise<AccessGrant[]>;
  /** Takes the access back and records it (a user may give back their own). Revoking twice is harmless. */
  revoke(actor: Principal, id: string, options?: { signal?: AbortSignal }): Promise<AccessGrant>;
  /** The grants made for one grantee (a user of this cluster or of a peer), newest first. */
  listFor(grantee: Grantee, options?: { state?: 'open' | 'all'; limit?: number; signal?: AbortSignal }): Promise<AccessGrant[]>;
  /**
   * Revokes a grant made for that grantee, and only such a one (else "not found"; with `entriesOnly`, also
   * one not made for a catalog entry); twice is harmless.
   */
  revokeFor(grantee: Grantee, id: string, options?: { entriesOnly?: boolean; signal?: AbortSignal }): Promise<AccessGrant>;
  /**
   * Revokes every open grant made for a catalog entry (the entry was deleted, or who may see it or what it
   * points at changed); returns how many. One whose backend fails is left for the expiry sweep.
   */
  revokeForEntry(entryId: string, options?: { signal?: AbortSignal }): Promise<number>;
  /**
   * Revokes every open grant made for users of a peer cluster (its peering with this cluster ended);
   * returns how many. One whose backend fails is left for the expiry sweep (and logged).
   */
  revokeForCluster(clusterId: string, options?: { by?: string; signal?: AbortSignal }): Promise<number>;
  /** Revokes every grant past its expiry (by the injected clock); returns how many. */
  sweepExpired(options?: { signal?: AbortSignal }): Promise<number>;
}

interface GrantRow {
  id: string;
  kind: GrantKind;
  target_type: GrantTargetType;
  target: GrantTarget | string;
  grantee_cluster: string;
  grantee_user: string;
  entry_id: string | null;
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}
const COLUMNS = 'id, kind, target_type, target, grantee_cluster, grantee_user, entry_id, created_by, created_at, expires_at, revoked_at';

/**
 * Only cluster administrators grant access to a target they name (ARCHITECTURE.md §6: providers hand out
 * credentials); users get theirs through the catalog (`issue`), and see and give back their own.
 */
function requireAdmin(actor: Principal): void {
  if (!actor.isAdmin) throw new NotAllowedError('only cluster administrators may manage access grants');
}

/**
 * The grants ledger: every grant a data or storage provider hands out, recorded before the provider makes
 * it (so a crash in between leaves a row the sweep will revoke), revoked on request or once expired.
 */
export function createGrantService(options: GrantServiceOptions): GrantService {
  const { db, providers } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxTtlSeconds = options.maxTtlSeconds ?? 7 * 24 * 3600;

  const toGrant = (row: GrantRow, now = clock.now()): AccessGrant => ({
    id: row.id,
    kind: row.kind,
    targetType: row.target_type,
    target: typeof row.target === 'string' ? (JSON.parse(row.target) as GrantTarget) : row.target,
    grantee: { cluster: row.grantee_cluster, user: row.grantee_user },
    entryId: row.entry_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    state: row.revoked_at ? 'revoked' : row.expires_at.getTime() <= now.getTime() ? 'expired' : 'active',
  });

  const providerFor = (type: GrantTargetType): GrantProvider => {
    const provider = providers[type];
    if (!provider) throw new NotImplementedError(`this cluster does not grant access to ${type} targets`);
    return provider;
  };

  function parse(request: GrantRequest): { target: GrantTarget; expiresIn: number } {
    const issues: { path: string; message: string }[] = [];
    const target = GrantTargetSchema.safeParse(request.target);
    if (!target.success) for (const issue of target.error.issues) issues.push({ path: ['target', ...issue.path].join('.'), message: issue.message });
    if (typeof request.grantee?.cluster !== 'string' || !GRANTEE_CLUSTER.test(request.grantee.cluster)) {
      issues.push({ path: 'grantee.cluster', message: 'must be "local" or a cluster id' });
    }
    if (typeof request.grantee?.user !== 'string' || !GRANTEE_USER.test(request.grantee.user)) {
      issues.push({ path: 'grantee.user', message: 'must be a user name (lower-case letters, digits, ".", "_", "-")' });
    }
    const ttl = request.ttlSeconds;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > maxTtlSeconds) {
      issues.push({ path: 'ttlSeconds', message: `must be a whole number of seconds from 1 to ${maxTtlSeconds}` });
    }
    if (request.entryId !== undefined && !/^[0-9a-f-]{36}$/.test(request.entryId)) issues.push({ path: 'entryId', message: 'must be a catalog entry id' });
    if (issues.length || !target.success) {
      throw new InvalidInputError(`invalid grant: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    }
    return { target: target.data, expiresIn: ttl };
  }

  async function revokeRow(row: GrantRow, by: string, signal: AbortSignal | undefined): Promise<AccessGrant> {
    const grant = toGrant(row);
    if (grant.revokedAt) return grant;
    await providerFor(grant.targetType).revoke(grant.id, grant.target, { signal });
    const { rows } = await db.query<GrantRow>(
      `UPDATE access_grants SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [grant.id, clock.now(), by],
      { signal },
    );
    logger.info('access grant revoked', { grant: grant.id, by });
    return rows[0] ? toGrant(rows[0]) : get(grant.id, signal); // someone else recorded it first
  }

  /** Revokes each row, the failures reported to `failed` rather than thrown; returns how many were revoked. */
  async function revokeRows(rows: GrantRow[], by: string, signal: AbortSignal | undefined, failed: (row: GrantRow, error: unknown) => void): Promise<number> {
    let revoked = 0;
    for (const row of rows) {
      try {
        await revokeRow(row, by, signal);
        revoked++;
      } catch (error) {
        failed(row, error);
      }
    }
    return revoked;
  }

  async function get(id: string, signal?: AbortSignal): Promise<AccessGrant> {
    const { rows } = await db.query<GrantRow>(`SELECT ${COLUMNS} FROM access_grants WHERE id = $1`, [id], { signal });
    if (!rows[0]) throw new NotFoundError(`grant "${id}" not found`);
    return toGrant(rows[0]);
  }

  /** The row of a grant the actor may see: any for an administrator, else one made for them (else "not found"). */
  async function visibleRow(actor: Principal, id: string, signal: AbortSignal | undefined): Promise<GrantRow> {
    const { rows } = await db.query<GrantRow>(`SELECT ${COLUMNS} FROM access_grants WHERE id = $1`, [id], { signal });
    const row = rows[0];
    if (row && (actor.isAdmin || (row.grantee_cluster === 'local' && row.grantee_user === actor.userName))) return row;
    throw new NotFoundError(`grant "${id}" not found`);
  }

  async function issue(
    request: GrantRequest,
    createdBy: string,
    signal: AbortSignal | undefined,
  ): Promise<{ grant: AccessGrant; access: GrantAccess }> {
    const { target, expiresIn } = parse(request);
    const provider = providerFor(targetType(target));
    const now = clock.now();
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + expiresIn * 1000);
    const { rows } = await db.query<GrantRow>(
      `INSERT INTO access_grants (id, kind, target_type, target, grantee_cluster, grantee_user, entry_id, created_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [
        id,
        target.kind,
        targetType(target),
        JSON.stringify(target),
        request.grantee.cluster,
        request.grantee.user,
        request.entryId ?? null,
        createdBy,
        now,
        expiresAt,
      ],
      { signal },
    );
    let access: GrantAccess;
    try {
      access = await provider.grant(id, target, { grantee: request.grantee, expiresAt, signal, uploads: request.uploads });
    } catch (error) {
      // Undo what the provider may have made in part, then forget the grant.
      await provider.revoke(id, target).catch((cleanup: unknown) => logger.warn('cleanup of a failed grant failed', { grant: id, error: describeError(cleanup) }));
      await db.query('DELETE FROM access_grants WHERE id = $1', [id]).catch(() => {});
      throw error;
    }
    logger.info('access grant created', {
      grant: id,
      type: targetType(target),
      kind: target.kind,
      grantee: `${request.grantee.user}@${request.grantee.cluster}`,
      ...(request.entryId ? { entry: request.entryId } : {}),
      expiresAt: expiresAt.toISOString(),
    });
    return { grant: toGrant(rows[0]!, now), access };
  }

  return {
    async start() {
      const { rows } = await db.query<GrantRow>(`SELECT ${COLUMNS} FROM access_grants WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY created_at`, [clock.now()]);
      for (const row of rows) {
        const provider = providers[row.target_type];
        if (!provider?.restore) continue;
        const grant = toGrant(row);
        try {
          await provider.restore(grant.id, grant.target);
        } catch (error) {
          // Its grantee finds no data there until it is asked for again; the other grants are restored.
          logger.warn('cannot restore an open grant', { grant: grant.id, error: describeError(error) });
        }
      }
    },

    async stop() {
      for (const [type, provider] of Object.entries(providers)) {
        try {
          await provider?.detach?.();
        } catch (error) {
          logger.warn('cannot detach the grants of a provider', { type, error: describeError(error) });
        }
      }
    },

    async grant(actor, request, grantOptions) {
      requireAdmin(actor);
      return issue(request, actor.userName, grantOptions?.signal);
    },

    issue: (request, issueOptions) => issue(request, issueOptions.createdBy, issueOptions.signal),

    async get(actor, id, getOptions) {
      return toGrant(await visibleRow(actor, id, getOptions?.signal));
    },

    async list(actor, listOptions = {}) {
      const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? MAX_LIST)), MAX_LIST);
      const conditions = (listOptions.state ?? 'open') === 'open' ? ['revoked_at IS NULL'] : [];
      const params: unknown[] = [limit];
      if (!actor.isAdmin) {
        params.push(actor.userName);
        conditions.push(`grantee_cluster = 'local' AND grantee_user = $2`);
      }
      const { rows } = await db.query<GrantRow>(
        `SELECT ${COLUMNS} FROM access_grants ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT $1`,
        params,
        { signal: listOptions.signal },
      );
      const now = clock.now();
      return rows.map((row) => toGrant(row, now));
    },

    async revoke(actor, id, revokeOptions) {
      const signal = revokeOptions?.signal;
      return revokeRow(await visibleRow(actor, id, signal), `user:${actor.userName}`, signal);
    },

    async listFor(grantee, listOptions = {}) {
      const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? MAX_LIST)), MAX_LIST);
      const open = (listOptions.state ?? 'open') === 'open' ? ' AND revoked_at IS NULL' : '';
      const { rows } = await db.query<GrantRow>(
        `SELECT ${COLUMNS} FROM access_grants WHERE grantee_cluster = $2 AND grantee_user = $3${open} ORDER BY created_at DESC, id LIMIT $1`,
        [limit, grantee.cluster, grantee.user],
        { signal: listOptions.signal },
      );
      const now = clock.now();
      return rows.map((row) => toGrant(row, now));
    },

    async revokeFor(grantee, id, revokeOptions) {
      const signal = revokeOptions?.signal;
      const { rows } = await db.query<GrantRow>(
        `SELECT ${COLUMNS} FROM access_grants WHERE id = $1 AND grantee_cluster = $2 AND grantee_user = $3${revokeOptions?.entriesOnly ? ' AND entry_id IS NOT NULL' : ''}`,
        [id, grantee.cluster, grantee.user],
        { signal },
      );
      if (!rows[0]) throw new NotFoundError(`grant "${id}" not found`);
      return revokeRow(rows[0], grantee.cluster === 'local' ? `user:${grantee.user}` : `user:${grantee.user}@${grantee.cluster}`, signal);
    },

    async revokeForEntry(entryId, revokeOptions) {
      const signal = revokeOptions?.signal;
      const { rows } = await db.query<GrantRow>(`SELECT ${COLUMNS} FROM access_grants WHERE entry_id = $1 AND revoked_at IS NULL`, [entryId], { signal });
      return revokeRows(rows, 'entry-changed', signal, (row, error) =>
        logger.warn('cannot revoke a grant of a changed catalog entry', { grant: row.id, entry: entryId, error: describeError(error) }),
      );
    },

    async revokeForCluster(clusterId, revokeOptions = {}) {
      const { signal } = revokeOptions;
      if (clusterId === 'local' || !GRANTEE_CLUSTER.test(clusterId)) {
        throw new InvalidInputError('invalid grantee cluster: must be a peer cluster id', [{ path: 'grantee.cluster', message: 'must be a peer cluster id' }]);
      }
      const { rows } = await db.query<GrantRow>(`SELECT ${COLUMNS} FROM access_grants WHERE grantee_cluster = $1 AND revoked_at IS NULL`, [clusterId], { signal });
      return revokeRows(rows, revokeOptions.by ?? 'peering-ended', signal, (row, error) =>
        logger.warn('cannot revoke a grant of a cluster no longer peered', { grant: row.id, cluster: clusterId, error: describeError(error) }),
      );
    },

    async sweepExpired(sweepOptions) {
      const signal = sweepOptions?.signal;
      const { rows } = await db.query<GrantRow>(
        `SELECT ${COLUMNS} FROM access_grants WHERE revoked_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
        [clock.now(), MAX_LIST],
        { signal },
      );
      let revoked = 0;
      for (const row of rows) {
        try {
          await revokeRow(row, 'expiry', signal);
          revoked++;
        } catch (error) {
          // Left for the next sweep; one broken backend must not keep the others' grants alive.
          logger.warn('cannot revoke an expired grant', { grant: row.id, error: describeError(error) });
        }
      }
      return revoked;
    },
  };
}

/** Sweeps expired grants every `intervalMs` (default one minute) between `start` and `stop`. */
export function createGrantSweeper(options: { grants: GrantService; intervalMs?: number; logger?: Logger }): Startable {
  const logger = options.logger ?? silentLogger;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> | undefined;
  const sweep = () => {
    running ??= options.grants
      .sweepExpired()
      .catch((error: unknown) => logger.warn('grant sweep failed', { error: describeError(error) }))
      .finally(() => (running = undefined));
  };
  return {
    async start() {
      sweep();
      timer = setInterval(sweep, options.intervalMs ?? 60_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

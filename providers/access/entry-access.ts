import { InvalidInputError, isArchipelError, silentLogger, type Logger } from '../../core/index.ts';
import type { CatalogCaller, CatalogEntry, CatalogService } from '../../catalog/index.ts';
import type { GrantAccess } from './grant-provider.ts';
import type { AccessGrant, GrantService } from './grant-service.ts';
import type { GrantTarget } from './grant-target.ts';

/** What a user asks for when they want access to a catalog entry. */
export interface EntryAccessRequest {
  /** How long the access lasts, in seconds (the grant service's limits apply). */
  ttlSeconds: number;
  /** S3 storage entries: the object names to get pre-signed PUT URLs for. */
  uploads?: readonly string[];
}

export interface EntryAccessResult {
  entry: CatalogEntry;
  grant: AccessGrant;
  access: GrantAccess;
}

/** A grant made for a catalog entry, with the entry's name (null if the caller may no longer see the entry). */
export interface EntryGrant {
  grant: AccessGrant;
  entryName: string | null;
}

export interface EntryAccessOptions {
  catalog: Pick<CatalogService, 'get'>;
  grants: Pick<GrantService, 'issue' | 'listFor' | 'revokeFor'>;
  logger?: Logger;
}

export interface EntryAccess {
  /**
   * Grants the caller access to a data or storage entry of this cluster that they may see: the entry's
   * visibility decides, exactly as for reading it (a hidden entry is "not found"), and the grant is for the
   * caller alone (a local user, or a peer's user named by their cluster).
   */
  request(caller: CatalogCaller, entryId: string, request: EntryAccessRequest, options?: { signal?: AbortSignal }): Promise<EntryAccessResult>;
  /** The caller's own grants made for catalog entries (`open`, the default: not revoked yet), newest first. */
  list(caller: CatalogCaller, options?: { state?: 'open' | 'all'; limit?: number; signal?: AbortSignal }): Promise<EntryGrant[]>;
  /** Gives back one of the caller's own grants (another's, or none, is "not found"); twice is harmless. */
  release(caller: CatalogCaller, grantId: string, options?: { signal?: AbortSignal }): Promise<EntryGrant>;
}

/** Who a grant for the caller is made for: a local user, or a peer's user named with their cluster. */
const granteeOf = (caller: CatalogCaller) => (caller.kind === 'local' ? { cluster: 'local', user: caller.userName } : { cluster: caller.cluster, user: caller.user });

/** What a grant for the entry gives access to: its data source (read-only) or its storage target. */
function targetOf(entry: CatalogEntry): GrantTarget {
  if (entry.kind === 'data') return { kind: 'data', source: entry.spec.source };
  if (entry.kind === 'storage') return { kind: 'storage', target: entry.spec.target };
  const message = `catalog entry "${entry.name}" is a ${entry.kind} entry: access is granted to data and storage entries`;
  throw new InvalidInputError(message, [{ path: 'entry', message: 'must be a data or storage entry' }]);
}

export function createEntryAccess(options: EntryAccessOptions): EntryAccess {
  const logger = options.logger ?? silentLogger;

  /** The entry's name as the caller sees it; null when they may no longer see it. */
  async function nameFor(caller: CatalogCaller, entryId: string, signal: AbortSignal | undefined): Promise<string | null> {
    try {
      return (await options.catalog.get(caller, entryId, signal ? { signal } : {})).name;
    } catch (error) {
      if (isArchipelError(error) && error.kind === 'not-found') return null;
      throw error;
    }
  }
  return {
    async request(caller, entryId, request, requestOptions = {}) {
      const entry = await options.catalog.get(caller, entryId, requestOptions);
      const target = targetOf(entry);
      const grantee = granteeOf(caller);
      const createdBy = caller.kind === 'local' ? caller.userName : `${caller.user}@${caller.cluster}`;
      const { grant, access } = await options.grants.issue(
        { target, grantee, ttlSeconds: request.ttlSeconds, entryId: entry.id, ...(request.uploads ? { uploads: request.uploads } : {}) },
        { createdBy, ...(requestOptions.signal ? { signal: requestOptions.signal } : {}) },
      );
      logger.info('access to a catalog entry granted', { entry: entry.id, grant: grant.id, grantee: createdBy });
      return { entry, grant, access };
    },

    async list(caller, listOptions = {}) {
      const grants = (await options.grants.listFor(granteeOf(caller), listOptions)).filter((g) => g.entryId !== null);
      const names = new Map<string, string | null>();
      for (const id of new Set(grants.map((g) => g.entryId!))) names.set(id, await nameFor(caller, id, listOptions.signal));
      return grants.map((grant) => ({ grant, entryName: names.get(grant.entryId!) ?? null }));
    },

    async release(caller, grantId, releaseOptions = {}) {
      const grant = await options.grants.revokeFor(granteeOf(caller), grantId, { ...releaseOptions, entriesOnly: true });
      logger.info('access to a catalog entry given back', { entry: grant.entryId, grant: grant.id, grantee: `${grant.grantee.user}@${grant.grantee.cluster}` });
      return { grant, entryName: await nameFor(caller, grant.entryId!, releaseOptions.signal) };
    },
  };
}

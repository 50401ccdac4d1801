import { InvalidInputError, silentLogger, type Logger } from '../../core/index.ts';
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

export interface EntryAccessOptions {
  catalog: Pick<CatalogService, 'get'>;
  grants: Pick<GrantService, 'issue'>;
  logger?: Logger;
}

export interface EntryAccess {
  /**
   * Grants the caller access to a data or storage entry of this cluster that they may see: the entry's
   * visibility decides, exactly as for reading it (a hidden entry is "not found"), and the grant is for the
   * caller alone (a local user, or a peer's user named by their cluster).
   */
  request(caller: CatalogCaller, entryId: string, request: EntryAccessRequest, options?: { signal?: AbortSignal }): Promise<EntryAccessResult>;
}

/** What a grant for the entry gives access to: its data source (read-only) or its storage target. */
function targetOf(entry: CatalogEntry): GrantTarget {
  if (entry.kind === 'data') return { kind: 'data', source: entry.spec.source };
  if (entry.kind === 'storage') return { kind: 'storage', target: entry.spec.target };
  const message = `catalog entry "${entry.name}" is a ${entry.kind} entry: access is granted to data and storage entries`;
  throw new InvalidInputError(message, [{ path: 'entry', message: 'must be a data or storage entry' }]);
}

export function createEntryAccess(options: EntryAccessOptions): EntryAccess {
  const logger = options.logger ?? silentLogger;
  return {
    async request(caller, entryId, request, requestOptions = {}) {
      const entry = await options.catalog.get(caller, entryId, requestOptions);
      const target = targetOf(entry);
      const grantee = caller.kind === 'local' ? { cluster: 'local', user: caller.userName } : { cluster: caller.cluster, user: caller.user };
      const createdBy = caller.kind === 'local' ? caller.userName : `${caller.user}@${caller.cluster}`;
      const { grant, access } = await options.grants.issue(
        { target, grantee, ttlSeconds: request.ttlSeconds, entryId: entry.id, ...(request.uploads ? { uploads: request.uploads } : {}) },
        { createdBy, ...(requestOptions.signal ? { signal: requestOptions.signal } : {}) },
      );
      logger.info('access to a catalog entry granted', { entry: entry.id, grant: grant.id, grantee: createdBy });
      return { entry, grant, access };
    },
  };
}

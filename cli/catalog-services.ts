import { localCaller, type CatalogService } from '../catalog/index.ts';
import { InvalidInputError } from '../core/index.ts';
import type { RunServiceOptions } from '../orchestrator/index.ts';

/** The run service's view of `service` catalog entries: this cluster's, as the caller may see them (a hidden one is not found). */
export function catalogServices(catalog: Pick<CatalogService, 'get' | 'clusterId'>): NonNullable<RunServiceOptions['services']> {
  return async (caller, entryId, signal) => {
    const entry = await catalog.get(localCaller(caller.principal, catalog.clusterId(), [...caller.projects]), entryId, { signal });
    if (entry.kind !== 'service') {
      throw new InvalidInputError(`catalog entry "${entryId}" is a ${entry.kind} entry, not a service`, [{ path: 'service', message: 'not a service entry' }]);
    }
    return { cwl: entry.spec.cwl, image: entry.spec.image, name: entry.name };
  };
}

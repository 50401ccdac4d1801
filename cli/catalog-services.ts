import { localCaller, type CatalogFederation, type CatalogService } from '../catalog/index.ts';
import { InvalidInputError, NotFoundError } from '../core/index.ts';
import type { RunServiceOptions } from '../orchestrator/index.ts';

/**
 * The run service's view of `service` catalog entries, as the caller may see them (a hidden one is not
 * found): this cluster's, and a peered cluster's asked of it over the catalog protocol.
 */
export function catalogServices(
  catalog: Pick<CatalogService, 'get' | 'clusterId'>,
  federation?: Pick<CatalogFederation, 'get'>,
): NonNullable<RunServiceOptions['services']> {
  return async (caller, ref, signal) => {
    const catalogCaller = localCaller(caller.principal, catalog.clusterId(), [...caller.projects]);
    const remote = ref.cluster !== undefined && ref.cluster !== catalog.clusterId();
    if (remote && !federation) throw new NotFoundError(`cluster ${ref.cluster} is not peered with this one`);
    const entry = remote ? await federation!.get(catalogCaller, ref.cluster!, ref.id, { ...(signal ? { signal } : {}) }) : await catalog.get(catalogCaller, ref.id, { signal });
    if (entry.kind !== 'service') {
      throw new InvalidInputError(`catalog entry "${ref.id}" is a ${entry.kind} entry, not a service`, [{ path: 'service', message: 'not a service entry' }]);
    }
    return { cwl: entry.spec.cwl, image: entry.spec.image, name: entry.name, ...(entry.spec.runsOnOwner ? { runsOn: entry.ownerCluster } : {}) };
  };
}

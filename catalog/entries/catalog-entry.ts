import type { ComputeSpec, DataSpec, StorageSpec } from './entry-schemas.ts';

/** What a cluster shares through its catalog. */
export type CatalogKind = 'service' | 'data' | 'storage' | 'compute';
export const CATALOG_KINDS: readonly CatalogKind[] = ['service', 'data', 'storage', 'compute'];

/**
 * Who may see an entry. `public`: every caller, local or from a peered cluster. `private`: callers of
 * this cluster only (it never leaves the cluster). `restricted`: callers acting for one of the entry's
 * allowed projects. The entry's owners and this cluster's admins always see it.
 */
export type Visibility = 'public' | 'private' | 'restricted';

/** A CWL type as a portal needs it to build a form (bindings and other runtime details left out). */
export type ToolType =
  | string
  | { type: 'array'; items: ToolType }
  | { type: 'enum'; name?: string; symbols: string[] }
  | { type: 'record'; name?: string; fields: { name: string; type: ToolType; doc?: string }[] }
  | ToolType[];

/** One input or output of a service's CWL tool. */
export interface ToolParameter {
  id: string;
  type: ToolType;
  /** Inputs: whether a value must be given (not optional and without a default). Outputs: not null-able. */
  required: boolean;
  label?: string;
  doc?: string;
  default?: unknown;
}

export interface ServiceSpec {
  /** The container image the tool runs in. */
  image: string;
  /** The CWL `CommandLineTool` document, as given. */
  cwl: string;
  /** The tool runs only on the owner's cluster. */
  runsOnOwner?: boolean;
  /** Derived from `cwl` on every write. */
  inputs: ToolParameter[];
  outputs: ToolParameter[];
}

export type { ComputeSpec, DataSpec, DataSource, StorageSpec, StorageTarget } from './entry-schemas.ts';

export interface CatalogEntryBase {
  id: string;
  /** The cluster id (libp2p peer id) of the cluster that shares the entry and enforces its visibility. */
  ownerCluster: string;
  name: string;
  description: string;
  tags: string[];
  /** User names of the owner cluster who may change the entry (with that cluster's admins). */
  owners: string[];
  licence: string | null;
  visibility: Visibility;
  /**
   * Federation-wide project ids (`clusterId/project`) a `restricted` entry is shared with. Shown in full to
   * those who may change the entry; other callers see only their own projects among them.
   */
  allowedProjects: string[];
  createdAt: Date;
  updatedAt: Date;
}

export type CatalogEntry = CatalogEntryBase &
  (
    | { kind: 'service'; spec: ServiceSpec }
    | { kind: 'data'; spec: DataSpec }
    | { kind: 'storage'; spec: StorageSpec }
    | { kind: 'compute'; spec: ComputeSpec }
  );

/** A user of this cluster, with the federation-wide ids (`clusterId/project`) of their projects. */
export interface LocalCaller {
  kind: 'local';
  userId: string;
  userName: string;
  isAdmin: boolean;
  projects: readonly string[];
}

/**
 * A user of another cluster, as that cluster vouches for them in a signed request: the cluster id, the
 * user's name there and the projects (`clusterId/project`) they act for. Only projects of their own
 * cluster count; a remote caller is never an admin or an owner here and never sees a private entry.
 */
export interface RemoteCaller {
  kind: 'remote';
  cluster: string;
  user: string;
  projects: readonly string[];
}

export type CatalogCaller = LocalCaller | RemoteCaller;

/** The caller for a request from an authenticated local user. */
export function localCaller(
  principal: { userId: string; userName: string; isAdmin: boolean },
  clusterId: string,
  projectNames: readonly string[],
): LocalCaller {
  return {
    kind: 'local',
    userId: principal.userId,
    userName: principal.userName,
    isAdmin: principal.isAdmin,
    projects: projectNames.map((name) => `${clusterId}/${name}`),
  };
}

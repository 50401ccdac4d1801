import { ConflictError } from '../errors.ts';

/**
 * The resource-store port: namespaced objects shaped like Kubernetes custom resources (`Swarm`,
 * `Identity`, `Peer` of `archipel.io/v1alpha1`). Real adapter: custom resources in a Kubernetes cluster.
 * Embedded adapter: rows in the node's SQL database. Both behave like the Kubernetes API server: the
 * store assigns `uid`, `creationTimestamp`, `resourceVersion` and `generation`; `create`, `update` and
 * `patch` ignore `status`, which only `updateStatus` and status patches change; every object is
 * validated against its kind's CRD schema (unknown fields are dropped, defaults applied).
 *
 * A store is bound to one namespace. Errors: `NotFoundError`, `ConflictError` (already exists, stale
 * `resourceVersion`, failed precondition), `InvalidInputError` (issues name the field, like
 * `spec.clusterId`), `UnavailableError`.
 */
export const RESOURCE_GROUP = 'archipel.io';
export const RESOURCE_VERSION = 'v1alpha1';
export const RESOURCE_API_VERSION = `${RESOURCE_GROUP}/${RESOURCE_VERSION}`;

export interface ResourceMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Opaque; changes on every write. Give it back on `update` to detect lost updates. */
  resourceVersion?: string;
  uid?: string;
  /** RFC 3339, second precision. */
  creationTimestamp?: string;
  /** Incremented when `spec` changes. */
  generation?: number;
}

export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ResourceMetadata;
  spec?: Spec;
  status?: Status;
}

export interface SwarmSpec {
  /** `sha256:<hex>` of the pre-shared swarm key; never the key itself. */
  keyFingerprint: string;
  /** Multiaddrs of the bootstrap nodes. */
  bootstrap?: string[];
  /** Defaults to `{ mode: 'manual' }`. With `allowList`, requests from other clusters wait for the operator. */
  peeringPolicy?: { mode: 'manual' | 'auto' | 'allowList'; allowedClusterIds?: string[] };
}

export interface SwarmStatus {
  observedGeneration?: number;
  connectedPeers?: number;
}

/** A cluster's signed identity record (also what `Peer.status.identity` holds once verified). */
export interface IdentitySpec {
  /** The cluster's libp2p peer id (base58btc). */
  clusterId: string;
  name: string;
  description?: string;
  apiEndpoint?: string;
  capabilities?: string[];
  sequence: number;
  /** RFC 3339. */
  expiresAt: string;
  /** Base64. */
  signature: string;
}

export interface IdentityStatus {
  observedGeneration?: number;
  /** RFC 3339: when the record was last announced. */
  publishedAt?: string;
}

export interface PeerSpec {
  /** The cluster's libp2p peer id (base58btc). */
  clusterId: string;
  name?: string;
  /** Multiaddrs. */
  addresses?: string[];
}

export interface PeerStatus {
  state?: 'discovered' | 'requested' | 'pending-approval' | 'peered' | 'refused' | 'blocked';
  /** RFC 3339. */
  lastSeen?: string;
  reachable?: boolean;
  latencyMs?: number;
  /** The latest verified identity record of the peer. */
  identity?: IdentitySpec;
  observedGeneration?: number;
}

export type SwarmResource = Resource<SwarmSpec, SwarmStatus>;
export type IdentityResource = Resource<IdentitySpec, IdentityStatus>;
export type PeerResource = Resource<PeerSpec, PeerStatus>;

/** The kinds a resource store serves, and the object type of each. */
export interface ResourceKinds {
  Swarm: SwarmResource;
  Identity: IdentityResource;
  Peer: PeerResource;
}
export type ResourceKind = keyof ResourceKinds;
export const RESOURCE_KINDS: readonly ResourceKind[] = ['Swarm', 'Identity', 'Peer'];

export interface ResourceStoreOptions {
  signal?: AbortSignal;
}

export interface ResourceListOptions extends ResourceStoreOptions {
  /** Equality-based: every label must be present with this value. */
  labelSelector?: Record<string, string>;
}

export interface ResourceList<T> {
  /** Ordered by name. */
  items: T[];
  /** The store's version when listed: `watch` from it to see every later change. */
  resourceVersion: string;
}

export interface ResourcePatchOptions extends ResourceStoreOptions {
  /** `'status'` patches the status (only); otherwise the status part of the patch is ignored. */
  subresource?: 'status';
}

export interface ResourceDeleteOptions extends ResourceStoreOptions {
  /** Delete only if the object is still at this version, else `ConflictError`. */
  resourceVersion?: string;
}

export interface ResourceWatchOptions {
  /** Ends the watch: the iteration finishes normally. */
  signal: AbortSignal;
  /**
   * Changes after this version (from `list`, or the last event seen). Without it: an `ADDED` event for
   * every existing object, then the changes. Too old a version fails with `ResourceExpiredError`.
   */
  resourceVersion?: string;
}

export interface ResourceWatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object after the change; for `DELETED`, its last state with the deletion's `resourceVersion`. */
  object: T;
}

export interface ResourceStore {
  create<K extends ResourceKind>(kind: K, object: ResourceKinds[K], options?: ResourceStoreOptions): Promise<ResourceKinds[K]>;
  get<K extends ResourceKind>(kind: K, name: string, options?: ResourceStoreOptions): Promise<ResourceKinds[K]>;
  list<K extends ResourceKind>(kind: K, options?: ResourceListOptions): Promise<ResourceList<ResourceKinds[K]>>;
  /** Replaces labels, annotations and spec. `metadata.resourceVersion` is required: stale → `ConflictError`. */
  update<K extends ResourceKind>(kind: K, object: ResourceKinds[K], options?: ResourceStoreOptions): Promise<ResourceKinds[K]>;
  /** Replaces the status only; same concurrency rule as `update`. */
  updateStatus<K extends ResourceKind>(kind: K, object: ResourceKinds[K], options?: ResourceStoreOptions): Promise<ResourceKinds[K]>;
  /**
   * Applies a JSON merge patch (RFC 7386) to the current object: `null` removes a field. Unconditional,
   * unless the patch carries `metadata.resourceVersion`.
   */
  patch<K extends ResourceKind>(kind: K, name: string, mergePatch: Record<string, unknown>, options?: ResourcePatchOptions): Promise<ResourceKinds[K]>;
  delete(kind: ResourceKind, name: string, options?: ResourceDeleteOptions): Promise<void>;
  watch<K extends ResourceKind>(kind: K, options: ResourceWatchOptions): AsyncIterable<ResourceWatchEvent<ResourceKinds[K]>>;
}

/**
 * The `resourceVersion` a watch asked for is older than the history the store keeps (Kubernetes' 410
 * Gone): list again and watch from the list's version.
 */
export class ResourceExpiredError extends ConflictError {}

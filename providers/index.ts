// Providers: what this cluster offers to its users and its peers. The compute provider (its capacity,
// from a `CapacitySource` — this machine, a fixed amount or the Kubernetes nodes — and the reservation
// ledger) and the access grants of data and storage providers (a PostgreSQL role on a view, pre-signed
// S3 URLs, directories), with their REST routes under `/api/v1/providers`; and compute reservations
// between peered clusters on `/archipel/compute/1.0.0`; and access to catalog entries for the users who
// may see them, of this cluster or of a peered one over `/archipel/access/1.0.0`.
export {
  createMachineCapacitySource,
  createStaticCapacitySource,
  type CapacitySource,
  type MachineCapacityOptions,
} from './compute/capacity-source.ts';
export {
  createKubernetesCapacitySource,
  DEFAULT_GPU_RESOURCES,
  type KubernetesCapacitySourceOptions,
} from './compute/kubernetes-capacity-source.ts';
export type { ComputeResources } from './compute/compute-resources.ts';
export {
  createComputeLedger,
  LOCAL_REQUESTER,
  type ComputeActor,
  type ComputeLedger,
  type ComputeLedgerOptions,
  type ComputeLimits,
  type ComputeQuota,
  type ComputeReservation,
  type ComputeStatus,
  type ListReservationsOptions,
  type ReservationRequest,
  type ReservationState,
} from './compute/compute-ledger.ts';
export { createProviderRoutes, type ProviderRoutesDeps } from './http/provider-routes.ts';
export {
  createComputeFederation,
  type ComputeFederation,
  type ComputeFederationNetwork,
  type ComputeFederationOptions,
} from './federation/compute-federation.ts';
export { COMPUTE_PROTOCOL } from './federation/compute-protocol.ts';
export { type RemoteCompute, type RemoteReservationRequest } from './federation/remote-compute.ts';
export { createRemoteComputeRoutes, type RemoteComputeRoutesDeps } from './http/remote-compute-routes.ts';
export { createEntryAccess, type EntryAccess, type EntryAccessRequest, type EntryAccessResult, type EntryGrant } from './access/entry-access.ts';
export { ACCESS_PROTOCOL } from './federation/access-protocol.ts';
export {
  createAccessFederation,
  type AccessFederation,
  type AccessFederationNetwork,
  type AccessFederationOptions,
  type ListedGrant,
  type RemoteEntryAccess,
  type RemoteGrant,
} from './federation/access-federation.ts';
export { createAccessRoutes, type AccessRoutesDeps } from './http/access-routes.ts';
export type {
  DatabaseRoleAccess,
  DirectoryAccess,
  GrantAccess,
  GrantOptions,
  GrantProvider,
  Grantee,
  PresignedReadAccess,
  PresignedWriteAccess,
} from './access/grant-provider.ts';
export type { GrantKind, GrantTarget, GrantTargetType } from './access/grant-target.ts';
export { createPostgresGrantProvider, type PostgresGrantProviderOptions } from './access/postgres-grant-provider.ts';
export { createS3GrantProvider, type S3GrantProviderOptions } from './access/s3-grant-provider.ts';
export {
  createDirectoryGrantProvider,
  createSystemMountRunner,
  type DirectoryGrantProviderOptions,
  type MountRunner,
} from './access/directory-grant-provider.ts';
export {
  createGrantService,
  createGrantSweeper,
  type AccessGrant,
  type GrantRequest,
  type GrantService,
  type GrantServiceOptions,
  type GrantState,
} from './access/grant-service.ts';
export { createGrantRoutes, type GrantRoutesDeps } from './http/grant-routes.ts';

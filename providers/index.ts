// Providers: what this cluster offers to its users and its peers. For now the compute provider: its
// capacity (from a `CapacitySource`) and the reservation ledger, with its REST routes under `/api/v1`.
export {
  createMachineCapacitySource,
  createStaticCapacitySource,
  type CapacitySource,
  type MachineCapacityOptions,
} from './compute/capacity-source.ts';
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

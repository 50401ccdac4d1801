// Placement: which cluster of the federation runs each step of a workflow, and why (ARCHITECTURE.md §9).
export {
  DEFAULT_WEIGHTS,
  planPlacement,
  type PlacedStep,
  type PlacementCluster,
  type PlacementPlan,
  type PlacementStep,
  type PlacementWeights,
  type Resources,
} from './plan-placement.ts';
export { ARCHIPEL_NAMESPACE, DEFAULT_REQUESTS, stepDemands, type PlacementRequest } from './step-demands.ts';

// The discovery API: the node's identity, swarm and peers over HTTP, mounted under `/api/v1`.
export { createDiscoveryRoutes, type DiscoveryRoutesDeps } from './discovery-routes.ts';

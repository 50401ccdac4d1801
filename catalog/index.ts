// The catalog: what this cluster shares (services, data sources, storage targets, compute capacity) and
// who may see each entry. The owner enforces visibility in its queries; a hidden entry answers exactly
// like a missing one. Its REST routes live under `/api/v1/catalog`.
export {
  CATALOG_KINDS,
  localCaller,
  type CatalogCaller,
  type CatalogEntry,
  type CatalogEntryBase,
  type CatalogKind,
  type ComputeSpec,
  type DataSource,
  type DataSpec,
  type LocalCaller,
  type RemoteCaller,
  type ServiceSpec,
  type StorageSpec,
  type StorageTarget,
  type ToolParameter,
  type ToolType,
  type Visibility,
} from './entries/catalog-entry.ts';
export {
  createCatalogService,
  DEFAULT_LIST_LIMIT,
  DEFAULT_SEARCH_LIMIT,
  MAX_LIST_LIMIT,
  MAX_SEARCH_LIMIT,
  type CatalogPage,
  type CatalogService,
  type CatalogServiceOptions,
  type CatalogUserDirectory,
  type ListEntriesOptions,
  type SearchOptions,
} from './entries/catalog-service.ts';
export { MAX_CWL_BYTES, type CatalogEntryChange, type NewCatalogEntry } from './entries/entry-schemas.ts';
export { loadServiceTool } from './entries/service-tool.ts';
export { createCatalogRoutes, type CatalogRoutesDeps } from './http/catalog-routes.ts';
export {
  CATALOG_PROTOCOL,
  DEFAULT_FEDERATED_TIMEOUT_MS,
  MAX_FEDERATED_TIMEOUT_MS,
} from './federation/catalog-protocol.ts';
export {
  createCatalogFederation,
  type CatalogFederation,
  type CatalogFederationNetwork,
  type CatalogFederationOptions,
} from './federation/catalog-federation.ts';
export {
  createFederatedSearch,
  mergeResults,
  type FederatedEntry,
  type FederatedSearch,
  type FederatedSearchDeps,
  type FederatedSearchOptions,
  type FederatedSearchResult,
  type UnansweredPeer,
  type UnansweredReason,
} from './federation/federated-search.ts';
